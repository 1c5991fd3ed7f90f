using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client.Load;

/// <summary>Parameters of a load run (see the <c>load</c> command).</summary>
/// <param name="Protocol">Forced protocol version, or null for each product's default.</param>
/// <param name="RenewalRatio">Fraction of requests that re-use an already activated machine (while unactivated machines
/// remain; afterwards every request is a renewal).</param>
/// <param name="NewConnectionPerActivation">Open and close a connection for every request instead of keeping one per host
/// per worker.</param>
/// <param name="LatencySampleCapacity">Latency samples kept exactly (in total); beyond that a uniform reservoir.</param>
public sealed record LoadSettings(
    IReadOnlyList<HostEndpoint> Hosts,
    int Clients,
    TimeSpan Duration,
    int Concurrency,
    LoadMix Mix,
    double RenewalRatio,
    KmsProtocolVersion? Protocol,
    bool NewConnectionPerActivation,
    long Seed,
    KmsClientOptions ClientOptions,
    int LatencySampleCapacity = 4_000_000);
