using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation;

/// <summary>The CMID cache of one product group, exactly as a genuine KMS host keeps it: capacity is twice the largest
/// N_Policy seen (never shrinks, bounded, at least 1 once anyone asked), a renewal moves the CMID to the back, entries unseen for
/// <see cref="ExpiryPeriod"/> drop out, and the count a client is told includes the client itself.
/// Pure and single-threaded: a store loads it, applies a batch under its per-group lock and persists the changes.</summary>
public sealed class ProductGroupLedger
{
    /// <summary>A genuine host forgets a client 30 days after it last asked.</summary>
    public static readonly TimeSpan ExpiryPeriod = TimeSpan.FromDays(30);

    /// <summary>N_Policy above 1000 is refused by the protocol layer, so no legitimate capacity exceeds this.</summary>
    public const int MaxCapacity = 2000;

    private readonly LinkedList<LedgerEntry> _order = new();
    private readonly Dictionary<Guid, LinkedListNode<LedgerEntry>> _index = new();

    public ProductGroupLedger(ProductGroup group, int capacity = 0, IEnumerable<LedgerEntry>? entriesOldestFirst = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxCapacity);
        Group = group;
        Capacity = capacity;
        foreach (var entry in entriesOldestFirst ?? [])
        {
            if (_index.Remove(entry.ClientMachineId, out var old))
            {
                _order.Remove(old);
            }

            _index[entry.ClientMachineId] = _order.AddLast(entry);
        }
    }

    public ProductGroup Group { get; }

    /// <summary>The most CMIDs the cache holds: 2 × the largest N_Policy seen (at least 1 after a request; 0 before any).</summary>
    public int Capacity { get; private set; }

    public int Count => _order.Count;

    public bool Contains(Guid clientMachineId) => _index.ContainsKey(clientMachineId);

    /// <summary>Applies one request and returns the count to report. <paramref name="changes"/>, when given, collects what
    /// a store must persist.</summary>
    public LedgerOutcome Apply(Guid clientMachineId, int requiredClientCount, DateTimeOffset now, LedgerChanges? changes = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(requiredClientCount);
        Expire(now, changes);

        // At least 1: a request with N_Policy 0 (which the protocol layer lets through) keeps and counts its requester, so
        // the count never exceeds the capacity.
        int wanted = Math.Min(MaxCapacity, Math.Max(1, 2 * Math.Min(requiredClientCount, MaxCapacity)));
        if (wanted > Capacity)
        {
            Capacity = wanted;
            if (changes is not null)
            {
                changes.Capacity = Capacity;
            }
        }

        bool isNew = true;
        if (_index.Remove(clientMachineId, out var existing))
        {
            _order.Remove(existing);
            isNew = false;
        }

        var entry = new LedgerEntry(clientMachineId, now);
        _index[clientMachineId] = _order.AddLast(entry);
        changes?.Touched(entry);

        // Over capacity: the least recently seen clients make room.
        while (_order.Count > Capacity)
        {
            var oldest = _order.First!;
            _order.RemoveFirst();
            _index.Remove(oldest.Value.ClientMachineId);
            changes?.Removed(oldest.Value.ClientMachineId);
        }

        return new LedgerOutcome(_order.Count, isNew, Capacity);
    }

    /// <summary>Drops entries last seen <see cref="ExpiryPeriod"/> or longer before <paramref name="now"/>.</summary>
    public int Expire(DateTimeOffset now, LedgerChanges? changes = null)
    {
        var cutoff = now - ExpiryPeriod;
        int removed = 0;
        for (var node = _order.First; node is not null;)
        {
            var next = node.Next;
            if (node.Value.LastSeen <= cutoff)
            {
                _order.Remove(node);
                _index.Remove(node.Value.ClientMachineId);
                changes?.Removed(node.Value.ClientMachineId);
                removed++;
            }

            node = next;
        }

        return removed;
    }

    public LedgerSnapshot ToSnapshot() => new(Group, Capacity, _order.ToArray());
}
