namespace KmsFarm.Client.Cli;

// The JSON of a node's GET /api/status and /api/activations (camelCase), as kmsfarm-client status reads it.

internal sealed record FarmStatus(
    string Node,
    DateTimeOffset Generated,
    FarmStatusFarm Farm,
    IReadOnlyList<FarmStatusGroup> Groups,
    FarmStatusTotals Totals,
    IReadOnlyList<FarmStatusSilo> Silos,
    string? SilosError);

internal sealed record FarmStatusFarm(string ClusterId, string Store, int HostBuild, int Lcid, DateTimeOffset IdentityCreated);

internal sealed record FarmStatusGroup(
    string Group,
    string Name,
    string State,
    string? Host,
    int CurrentCount,
    int Threshold,
    int Capacity,
    string? Epid,
    IReadOnlyList<FarmStatusCsvlk> Csvlks,
    int ActivationIntervalMinutes,
    int RenewalIntervalMinutes,
    FarmStatusTotals Requests);

internal sealed record FarmStatusCsvlk(string Id, string Name, string Epid);

internal sealed record FarmStatusTotals(long Received, long Activated, long Failed, IReadOnlyDictionary<string, long> ByLicenseStatus);

internal sealed record FarmStatusSilo(string Name, string Address, string HostName, string Status, DateTimeOffset Started, DateTimeOffset LastIAmAlive);

internal sealed record FarmActivationPage(IReadOnlyList<FarmActivation> Items, long? Next);

internal sealed record FarmActivation(
    long Id,
    DateTimeOffset Time,
    string Node,
    string ClientAddress,
    string? Group,
    string MachineName,
    string? Product,
    string LicenseStatus,
    string Result,
    bool Activated,
    int? CurrentCount);
