using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client.Cli;

/// <param name="Host">The host given with --host, or null when <paramref name="Dns"/> finds the hosts.</param>
internal sealed record ActivateSettings(
    HostEndpoint? Host,
    ClientProduct Product,
    KmsProtocolVersion Protocol,
    Guid ClientMachineId,
    string WorkstationName,
    int Count,
    KmsClientOptions ClientOptions,
    bool Json,
    DnsDiscoverySettings? Dns = null);
