namespace KmsFarm.Activation;

/// <summary>The result of one attempt applied to a ledger.</summary>
/// <param name="CurrentCount">Distinct live CMIDs in the cache, including the requester (before any reporting floor).</param>
/// <param name="IsNewClient">The CMID was not in the cache (a first activation, or one that had expired or been evicted).</param>
/// <param name="Capacity">The cache's capacity after the attempt (never below <paramref name="CurrentCount"/>): the most a
/// reported count may say, whatever floor the policy sets. 0 from a writer of an older build, which did not say.</param>
public readonly record struct LedgerOutcome(int CurrentCount, bool IsNewClient, int Capacity);
