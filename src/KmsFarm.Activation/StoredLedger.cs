using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation;

/// <summary>A product group's CMID cache as the store holds it, read by the group's single writer when it (re)loads.</summary>
/// <param name="Capacity">2 × the largest N_Policy seen (0..<see cref="ProductGroupLedger.MaxCapacity"/>).</param>
/// <param name="EntriesOldestFirst">Every stored entry in cache order (expired ones included; the ledger drops them).</param>
/// <param name="Version">The group's version: it grows by one per committed batch. A commit names the version it was
/// computed from (<see cref="LedgerCommit.ExpectedVersion"/>), which fences off a second writer.</param>
/// <param name="NextSeq">The first free position number: a written entry's seq orders the cache (larger = newer).</param>
public sealed record StoredLedger(ProductGroup Group, int Capacity, IReadOnlyList<LedgerEntry> EntriesOldestFirst, long Version, long NextSeq);
