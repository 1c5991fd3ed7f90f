namespace KmsFarm.Activation;

/// <summary>What applying a batch changed in a ledger, so a store can persist exactly that: the entries written (new or
/// renewed, with their new last-seen time), the CMIDs removed (expired or evicted) and the capacity if it grew.</summary>
public sealed class LedgerChanges
{
    private readonly Dictionary<Guid, LedgerEntry> _upserted = new();
    private readonly HashSet<Guid> _removed = new();

    /// <summary>The new capacity, or null when it did not change.</summary>
    public int? Capacity { get; set; }

    public IReadOnlyCollection<LedgerEntry> Upserted => _upserted.Values;

    public IReadOnlyCollection<Guid> RemovedIds => _removed;

    public bool IsEmpty => _upserted.Count == 0 && _removed.Count == 0 && Capacity is null;

    internal void Touched(LedgerEntry entry)
    {
        _removed.Remove(entry.ClientMachineId);
        _upserted[entry.ClientMachineId] = entry;
    }

    internal void Removed(Guid clientMachineId)
    {
        _upserted.Remove(clientMachineId);
        _removed.Add(clientMachineId);
    }

    public void Clear()
    {
        _upserted.Clear();
        _removed.Clear();
        Capacity = null;
    }
}
