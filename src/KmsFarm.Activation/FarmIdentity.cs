using KmsFarm.Protocol.Kms;

namespace KmsFarm.Activation;

/// <summary>What the farm says about itself: one ePID and HwId per CSVLK, all sharing one host build and LCID. Generated
/// once per farm and kept by the store, so every node and every restart serves the same identity.</summary>
public sealed record FarmIdentity(int HostBuild, int Lcid, DateTimeOffset Created, IReadOnlyList<CsvlkIdentity> Csvlks);

/// <summary>The identity a farm presents for one CSVLK.</summary>
public sealed record CsvlkIdentity(string CsvlkId, string Epid, HardwareId HwId);
