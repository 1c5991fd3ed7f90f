using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation;

/// <summary>What one batch changed in a product group, written by the store in one transaction: the ledger changes, the
/// client inventory and the history rows. The store applies it only while the group is still at
/// <see cref="ExpectedVersion"/> and then moves it to <see cref="NewVersion"/>; otherwise it writes nothing and throws
/// <see cref="LedgerVersionConflictException"/>.</summary>
/// <param name="Time">When the batch was applied (whole microseconds, UTC): the entries' last-seen time and the inventory's.</param>
/// <param name="Capacity">The group's capacity after the batch.</param>
/// <param name="Upserted">Entries added or renewed, each with its new position (seq).</param>
/// <param name="RemovedIds">CMIDs that left the cache (expired or evicted).</param>
/// <param name="Records">One history row per attempt, in order, with <see cref="ActivationRecord.CurrentCount"/> and the
/// group filled in; each also updates that client's inventory row.</param>
public sealed record LedgerCommit(
    ProductGroup Group,
    long ExpectedVersion,
    DateTimeOffset Time,
    int Capacity,
    IReadOnlyList<SequencedLedgerEntry> Upserted,
    IReadOnlyList<Guid> RemovedIds,
    IReadOnlyList<ActivationRecord> Records)
{
    public long NewVersion => ExpectedVersion + 1;
}

/// <summary>A cache entry with its position: entries are read back in ascending <paramref name="Seq"/>.</summary>
public readonly record struct SequencedLedgerEntry(Guid ClientMachineId, DateTimeOffset LastSeen, long Seq);
