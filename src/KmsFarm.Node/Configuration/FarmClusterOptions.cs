namespace KmsFarm.Node.Configuration;

/// <summary>How this node's Orleans silo joins the farm. Section <c>KmsFarm:Cluster</c>. With <c>--store postgres:…</c>
/// the silos of every node sharing the database and <see cref="ClusterId"/> form one cluster (membership in that
/// database); with <c>--store sqlite:…</c> the node is a cluster of one silo on loopback.</summary>
public sealed class FarmClusterOptions
{
    public const string SectionName = "KmsFarm:Cluster";

    public const string DefaultClusterId = "kmsfarm";

    /// <summary>Orleans' default silo-to-silo port.</summary>
    public const int DefaultSiloPort = 11111;

    /// <summary>The farm's name in the membership table: nodes with the same database and cluster id are one farm.
    /// Default <c>kmsfarm</c>; letters, digits, '.', '-' and '_', 1..64 characters.</summary>
    public string ClusterId { get; set; } = DefaultClusterId;

    /// <summary>TCP port for silo-to-silo traffic (grain calls, membership probes). Default 11111. Two nodes on one
    /// machine need different ones.</summary>
    public int SiloPort { get; set; } = DefaultSiloPort;

    /// <summary>TCP port of the Orleans client gateway, for external Orleans clients. Null (default): no gateway; the
    /// node's own front-end calls grains in-process.</summary>
    public int? GatewayPort { get; set; }

    /// <summary>The IP address other silos reach this one at. Null (default): 127.0.0.1 for the embedded store (a
    /// single silo); otherwise the first up, non-loopback IPv4 address of this machine (the pod IP in Kubernetes).</summary>
    public string? AdvertisedAddress { get; set; }
}
