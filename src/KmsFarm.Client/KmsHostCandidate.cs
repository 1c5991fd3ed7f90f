using KmsFarm.DnsSrv;

namespace KmsFarm.Client;

/// <summary>A KMS host a client may try: its name as given or discovered (<c>target:port</c>) and the endpoints to connect
/// to in turn (a discovered target's addresses, as the DNS server gave them).</summary>
public sealed record KmsHostCandidate(string Name, IReadOnlyList<HostEndpoint> Endpoints)
{
    public static KmsHostCandidate FromHost(HostEndpoint host) => new(host.ToString(), [host]);

    /// <summary>One endpoint per address of the record's target; the target name itself (resolved by the system when
    /// connecting) when the DNS server gave no address.</summary>
    public static KmsHostCandidate FromSrv(SrvTarget record) => new(
        new HostEndpoint(record.Target, record.Port).ToString(),
        record.Addresses.Count > 0
            ? record.Addresses.Select(a => new HostEndpoint(a.ToString(), record.Port)).ToArray()
            : [new HostEndpoint(record.Target, record.Port)]);
}
