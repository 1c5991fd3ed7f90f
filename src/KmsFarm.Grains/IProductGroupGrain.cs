using KmsFarm.Activation;

namespace KmsFarm.Grains;

/// <summary>One product group's CMID cache (the counting domain of a KMS host: Windows, Office 2010, Office 2013+), held
/// by exactly one grain activation in the farm, its only writer. Keyed by the <see cref="KmsFarm.Protocol.Catalog.ProductGroup"/>
/// name (<see cref="ProductGroupGrainKey"/>).</summary>
[Alias("kmsfarm.product-group")]
public interface IProductGroupGrain : IGrainWithStringKey
{
    /// <summary>Applies a node's batch of attempts in order and answers once the store has committed them (ledger,
    /// inventory, history). <see cref="ApplyResult.Fenced"/> when another writer of the group committed first (nothing of
    /// this batch was written; the grain reloads), <see cref="ApplyResult.HandedOver"/> when the grain is leaving its
    /// stopping silo (nothing written): the caller may send the batch again. Store failures throw.</summary>
    [Alias("apply")]
    Task<ApplyResult> ApplyAsync(ActivationBatch batch);

    /// <summary>The group's cache as this grain last loaded or committed it: count, capacity, version (no store access; a
    /// batch whose commit is in flight is not in it yet).</summary>
    [Alias("status")]
    Task<ProductGroupStatus> GetStatusAsync();

    /// <summary>Stops taking batches (later calls are answered <see cref="ApplyResult.HandedOver"/>), commits and answers
    /// the queued ones, and deactivates; returns when the queue is empty. Called on the grain's own silo by
    /// <see cref="ProductGroupHandOverService"/> when the node stops gracefully.</summary>
    [Alias("hand-over")]
    Task HandOverAsync();
}

/// <summary>The attempts a node sends for one group in one call, in arrival order.</summary>
[GenerateSerializer, Immutable, Alias("kmsfarm.activation-batch")]
public sealed record ActivationBatch([property: Id(0)] ActivationAttempt[] Attempts);

/// <summary>The answer to an <see cref="ActivationBatch"/>: one outcome per attempt, in order; or fenced (another writer
/// committed first); or handed over (the activation is leaving its stopping silo). In the last two cases nothing of the
/// batch was written and the caller may send it again.</summary>
[GenerateSerializer, Immutable, Alias("kmsfarm.apply-result")]
public sealed record ApplyResult([property: Id(0)] LedgerOutcome[] Outcomes, [property: Id(1)] bool Fenced, [property: Id(2)] bool HandedOver = false)
{
    public static ApplyResult FencedOff { get; } = new([], true);

    public static ApplyResult Moving { get; } = new([], false, true);
}

/// <summary>What a product-group grain holds.</summary>
/// <param name="Count">CMIDs in the cache (before expiry of entries unseen for 30 days is applied at the next request).</param>
/// <param name="Capacity">2 × the largest N_Policy seen.</param>
/// <param name="Version">The store version of the cache.</param>
[GenerateSerializer, Immutable, Alias("kmsfarm.product-group-status")]
public sealed record ProductGroupStatus([property: Id(0)] int Count, [property: Id(1)] int Capacity, [property: Id(2)] long Version);
