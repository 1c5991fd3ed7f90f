using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client.Cli;

/// <param name="Hosts">The hosts given with --host, in the order given; empty when <paramref name="Dns"/> finds them.</param>
/// <param name="HostCache">--host-cache: the file remembering the host that answered and those that did not, or null.</param>
internal sealed record ActivateSettings(
    IReadOnlyList<HostEndpoint> Hosts,
    ClientProduct Product,
    KmsProtocolVersion Protocol,
    Guid ClientMachineId,
    string WorkstationName,
    int Count,
    KmsClientOptions ClientOptions,
    bool Json,
    DnsDiscoverySettings? Dns = null,
    string? HostCache = null);
