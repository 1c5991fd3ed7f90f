namespace KmsFarm.Protocol.Kms;

/// <summary>A response as a client decoded and verified it.</summary>
public sealed record KmsResponse(
    KmsProtocolVersion Version,
    string Epid,
    Guid ClientMachineId,
    long ClientTime,
    uint CurrentCount,
    uint ActivationInterval,
    uint RenewalInterval,
    HardwareId? HwId);
