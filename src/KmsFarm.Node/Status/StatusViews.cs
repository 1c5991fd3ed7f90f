using KmsFarm.Node.Hosting;

namespace KmsFarm.Node.Status;

/// <summary><c>GET /api/status</c>: the farm as <c>slmgr /dlv</c> shows a KMS host, per product group, with the farm's
/// request totals and its silos. Asked of any node, the same farm-wide answer (the node that answered is
/// <see cref="Node"/>).</summary>
public sealed record StatusView(
    string Node,
    DateTimeOffset Generated,
    FarmView Farm,
    IReadOnlyList<GroupStatusView> Groups,
    RequestTotalsView Totals,
    IReadOnlyList<NodeView> Silos,
    string? SilosError);

/// <summary>Who the farm is: cluster, store kind, and the identity's host build and LCID.</summary>
public sealed record FarmView(string ClusterId, string Store, int HostBuild, int Lcid, DateTimeOffset IdentityCreated);

/// <summary>One product group (counting domain).</summary>
/// <param name="Group">The product group's key: Windows, Office2010, Office2013Plus.</param>
/// <param name="Name">The KMS application's name.</param>
/// <param name="State"><c>active</c>: the group's grain is activated on silo <see cref="Host"/> and the figures are its own;
/// <c>not activated</c>: no silo has loaded the group since the farm (re)started, the figures are the store's;
/// <c>unavailable</c>: its grain did not answer in time, the figures are the store's.</param>
/// <param name="CurrentCount">CMIDs in the group's cache (what a client of the group is told, before any lab floor).</param>
/// <param name="Threshold">The activation threshold: the largest N_Policy seen (= capacity / 2).</param>
/// <param name="Capacity">Most CMIDs the cache holds.</param>
/// <param name="Epid">The ePID of the group's host key (the CSVLK answering its unknown KMS ids; the application's newest
/// key when served): what <c>slmgr /dlv</c> on a genuine host with that key shows.</param>
/// <param name="Csvlks">Every served CSVLK of the application with its ePID, in the order the farm prefers them: a known
/// product is answered with the ePID of the CSVLK that activates it.</param>
public sealed record GroupStatusView(
    string Group,
    string Name,
    string State,
    string? Host,
    int CurrentCount,
    int Threshold,
    int Capacity,
    string? Epid,
    IReadOnlyList<CsvlkView> Csvlks,
    int ActivationIntervalMinutes,
    int RenewalIntervalMinutes,
    RequestTotalsView Requests);

/// <summary>A served host key and the farm's ePID for it.</summary>
public sealed record CsvlkView(string Id, string Name, string Epid);

/// <summary>Cumulative requests answered, as <c>slmgr /dlv</c> counts them: received = activated + failed (refused);
/// by the license status the clients reported (unlicensed, licensed, oob_grace, oot_grace, non_genuine_grace,
/// notification, extended_grace, other).</summary>
public sealed record RequestTotalsView(long Received, long Activated, long Failed, IReadOnlyDictionary<string, long> ByLicenseStatus);

/// <summary><c>GET /api/clients</c>: a page of the client inventory, most recently seen first.</summary>
public sealed record ClientPageView(long Total, int Offset, int Limit, IReadOnlyList<ClientView> Items);

/// <summary>A client machine in one product group.</summary>
public sealed record ClientView(
    string Group,
    Guid Cmid,
    string MachineName,
    string? Product,
    Guid SkuId,
    Guid KmsCountedId,
    string LicenseStatus,
    bool IsClientVm,
    DateTimeOffset FirstSeen,
    DateTimeOffset LastSeen,
    string LastAddress,
    string? LastNode,
    long ActivationCount);

/// <summary><c>GET /api/activations</c>: a page of the history, newest first; <see cref="Next"/> is the <c>before</c> of the
/// next (older) page, null on the last one.</summary>
public sealed record ActivationPageView(IReadOnlyList<ActivationView> Items, long? Next);

/// <summary>One answered request.</summary>
/// <param name="Result">The HRESULT sent, 0x00000000 when activated.</param>
public sealed record ActivationView(
    long Id,
    DateTimeOffset Time,
    string Node,
    string ClientAddress,
    int ProtocolVersion,
    string? Group,
    string MachineName,
    Guid Cmid,
    string? Product,
    Guid SkuId,
    Guid KmsCountedId,
    string LicenseStatus,
    bool IsClientVm,
    int RequiredClientCount,
    string Result,
    bool Activated,
    int? CurrentCount,
    string? Epid);
