namespace KmsFarm.Node.Configuration;

/// <summary>Who this node is. Section <c>KmsFarm:Node</c>.</summary>
public sealed class NodeOptions
{
    public const string SectionName = "KmsFarm:Node";

    /// <summary>How often a node tells the registry it is alive.</summary>
    public static readonly TimeSpan DefaultHeartbeatInterval = TimeSpan.FromSeconds(10);

    /// <summary>Three missed heartbeats.</summary>
    public static readonly TimeSpan DefaultGoneAfter = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan MinHeartbeatInterval = TimeSpan.FromMilliseconds(100);

    public static readonly TimeSpan MaxHeartbeatInterval = TimeSpan.FromMinutes(10);

    /// <summary>Name recorded with every activation this node serves. Default: the machine name (the pod name in K8s).</summary>
    public string Name { get; set; } = Environment.MachineName;

    /// <summary>Optional path of a catalog file replacing the built-in product catalog.</summary>
    public string? CatalogPath { get; set; }

    /// <summary>Windows host build the farm claims when it creates its identity (first start of the farm only; later
    /// starts use the stored identity). Null (default): the newest build the catalog can date, e.g. 26100.</summary>
    public int? HostBuild { get; set; }

    /// <summary>How often the node refreshes its entry in the node registry. Default 10 s, range 100 ms..10 min.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = DefaultHeartbeatInterval;

    /// <summary>A node whose last heartbeat is older than this is listed as gone (by this node's <c>/api/nodes</c>; give
    /// every node of a farm the same value). Default 30 s; must be longer than <see cref="HeartbeatInterval"/>.</summary>
    public TimeSpan GoneAfter { get; set; } = DefaultGoneAfter;
}
