using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation;

/// <summary>One row of the append-only activation history: what was asked, by whom, and what the farm answered.</summary>
public sealed record ActivationRecord
{
    public required DateTimeOffset Time { get; init; }
    public required string Node { get; init; }
    public required string ClientAddress { get; init; }
    public required int ProtocolVersion { get; init; }
    /// <summary>Null when the application id is not one of the three KMS applications.</summary>
    public required ProductGroup? Group { get; init; }
    public required Guid ApplicationId { get; init; }
    public required Guid SkuId { get; init; }
    public required Guid KmsCountedId { get; init; }
    public required Guid ClientMachineId { get; init; }
    public required string MachineName { get; init; }
    public required uint LicenseStatus { get; init; }
    public required bool IsClientVm { get; init; }
    public required int RequiredClientCount { get; init; }
    /// <summary>0 when activated (the count was reported), otherwise the HRESULT sent.</summary>
    public required uint Result { get; init; }
    /// <summary>The count reported; null when refused.</summary>
    public int? CurrentCount { get; init; }
    public string? Epid { get; init; }
}
