using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client.Cli;

internal sealed record ActivateSettings(
    HostEndpoint Host,
    ClientProduct Product,
    KmsProtocolVersion Protocol,
    Guid ClientMachineId,
    string WorkstationName,
    int Count,
    KmsClientOptions ClientOptions,
    bool Json);
