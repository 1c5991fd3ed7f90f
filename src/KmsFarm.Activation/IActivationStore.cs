using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation;

/// <summary>The persistence port of the activation domain. Implementations: the embedded SQLite store (single node) and
/// the PostgreSQL store (a farm). Every method that changes state returns only after its transaction committed (with the
/// store's <see cref="StoreDurability"/>).</summary>
public interface IActivationStore : IAsyncDisposable
{
    /// <summary>Creates or migrates the schema. Safe when several nodes start together.</summary>
    ValueTask InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Returns the farm identity, creating it with <paramref name="create"/> if none is stored yet
    /// (first caller wins; every later caller gets the stored one).</summary>
    ValueTask<FarmIdentity> GetOrCreateIdentityAsync(Func<FarmIdentity> create, CancellationToken cancellationToken);

    /// <summary>Reads a group's whole cache, its capacity, version and next seq in one consistent snapshot, for the group's
    /// single writer (<see cref="ProductGroupWriter"/>).</summary>
    ValueTask<StoredLedger> LoadLedgerAsync(ProductGroup group, CancellationToken cancellationToken);

    /// <summary>Writes <paramref name="commit"/> in one transaction if the group is still at
    /// <see cref="LedgerCommit.ExpectedVersion"/>, moving it to <see cref="LedgerCommit.NewVersion"/>: ledger changes,
    /// client inventory, history rows. Throws <see cref="LedgerVersionConflictException"/> (nothing written) when the group
    /// is at another version.</summary>
    ValueTask CommitLedgerAsync(LedgerCommit commit, CancellationToken cancellationToken);

    /// <summary>Appends the history row of a refused request (no ledger change).</summary>
    ValueTask AppendRefusalAsync(ActivationRecord record, CancellationToken cancellationToken);

    /// <summary>The current ledger of a group with entries older than the expiry dropped (read only).</summary>
    ValueTask<LedgerSnapshot> GetLedgerAsync(ProductGroup group, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The newest history rows, newest first.</summary>
    ValueTask<IReadOnlyList<ActivationRecord>> GetHistoryAsync(int limit, CancellationToken cancellationToken);

    /// <summary>How many distinct clients of <paramref name="group"/> the client inventory has seen after
    /// <paramref name="since"/> (read only; the farm's "clients seen in 30 days" gauge asks every 15 s, never per
    /// scrape). Null from a store that keeps no inventory, which is what this default answers.</summary>
    ValueTask<int?> CountClientsSeenSinceAsync(ProductGroup group, DateTimeOffset since, CancellationToken cancellationToken) =>
        ValueTask.FromResult<int?>(null);

    /// <summary>The farm's cumulative request counters by product group, license status and outcome (read only; for the
    /// status API, never per metrics scrape). Null from a store that keeps none, which is what this default answers.</summary>
    ValueTask<IReadOnlyList<RequestTotal>?> GetRequestTotalsAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult<IReadOnlyList<RequestTotal>?>(null);

    /// <summary>A page of the client inventory (read only). Null from a store that keeps no inventory (this default).</summary>
    ValueTask<ClientPage?> QueryClientsAsync(ClientQuery query, CancellationToken cancellationToken) =>
        ValueTask.FromResult<ClientPage?>(null);

    /// <summary>A page of the history, newest first (read only). Null from a store that cannot page it (this default).</summary>
    ValueTask<HistoryPage?> QueryHistoryAsync(HistoryQuery query, CancellationToken cancellationToken) =>
        ValueTask.FromResult<HistoryPage?>(null);

    /// <summary>True when the store answers (for /healthz/ready).</summary>
    ValueTask<bool> IsReadyAsync(CancellationToken cancellationToken);
}
