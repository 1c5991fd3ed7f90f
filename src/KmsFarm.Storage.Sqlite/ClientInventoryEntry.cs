using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Storage.Sqlite;

/// <summary>What the farm knows about one client machine in one product group (counted activations only; refusals go
/// to the history alone).</summary>
public sealed record ClientInventoryEntry(
    ProductGroup Group,
    Guid ClientMachineId,
    string MachineName,
    Guid SkuId,
    Guid KmsCountedId,
    uint LicenseStatus,
    bool IsClientVm,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    string LastAddress,
    long ActivationCount);
