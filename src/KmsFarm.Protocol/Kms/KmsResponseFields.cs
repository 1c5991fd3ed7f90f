namespace KmsFarm.Protocol.Kms;

/// <summary>What the host decides for one request; the codec turns it into a V4/V5/V6 response.</summary>
/// <param name="Epid">The host's extended PID for the CSVLK that serves this product (at most 63 characters).</param>
/// <param name="CurrentCount">The activation count reported to the client.</param>
/// <param name="ActivationInterval">VL activation (retry) interval in minutes.</param>
/// <param name="RenewalInterval">VL renewal interval in minutes.</param>
/// <param name="HwId">Host hardware id, sent in V6 only.</param>
public readonly record struct KmsResponseFields(string Epid, uint CurrentCount, uint ActivationInterval, uint RenewalInterval, HardwareId HwId);
