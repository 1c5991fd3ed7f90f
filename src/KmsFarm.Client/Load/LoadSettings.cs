using KmsFarm.DnsSrv;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client.Load;

/// <summary>Parameters of a load run (see the <c>load</c> command).</summary>
/// <param name="Protocol">Forced protocol version, or null for each product's default.</param>
/// <param name="RenewalRatio">Fraction of requests that re-use an already activated machine (while unactivated machines
/// remain; afterwards every request is a renewal).</param>
/// <param name="NewConnectionPerActivation">Open and close a connection for every request instead of keeping one per host
/// per worker.</param>
/// <param name="LatencySampleCapacity">Latency samples kept exactly (in total); beyond that a uniform reservoir.</param>
/// <param name="Rate">Target requests per second over all workers (open loop, see <see cref="RatePacer"/>), or null to
/// send as fast as the workers can.</param>
/// <param name="SrvRecords">When the hosts were found in DNS: the SRV record of each host (<c>Hosts[i]</c> is the first
/// address of <c>SrvRecords[i]</c>'s target). Each machine then tries the hosts in its own RFC 2782 order and keeps the one
/// that answered, as a Windows client caches its KMS host. Null: machine i prefers host i mod H.</param>
/// <param name="KeepAcknowledged">Keep every acknowledged activation (<see cref="LoadGenerator.Acknowledged"/>), to check
/// them one by one against a farm's history.</param>
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
    int LatencySampleCapacity = 4_000_000,
    double? Rate = null,
    IReadOnlyList<SrvTarget>? SrvRecords = null,
    bool KeepAcknowledged = false)
{
    /// <summary>These settings with the hosts of <paramref name="records"/>: each record's first address (its target name
    /// when the DNS server gave none).</summary>
    public LoadSettings WithDiscoveredHosts(IReadOnlyList<SrvTarget> records) =>
        this with { Hosts = records.Select(r => KmsHostCandidate.FromSrv(r).Endpoints[0]).ToArray(), SrvRecords = records };
}
