using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation;

/// <summary>What the farm knows about one client machine in one product group (counted activations only).</summary>
/// <param name="LastNode">The node that served its last activation; null from a store that does not keep it (SQLite).</param>
public sealed record InventoryClient(
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
    string? LastNode,
    long ActivationCount);
