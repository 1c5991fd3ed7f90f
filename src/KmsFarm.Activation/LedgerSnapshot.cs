using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation;

/// <summary>A read-only view of one product group's CMID cache, oldest entry first.</summary>
public sealed record LedgerSnapshot(ProductGroup Group, int Capacity, IReadOnlyList<LedgerEntry> Entries)
{
    public int Count => Entries.Count;
}

/// <summary>A cached CMID and when it was last seen.</summary>
public readonly record struct LedgerEntry(Guid ClientMachineId, DateTimeOffset LastSeen);
