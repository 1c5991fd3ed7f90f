namespace KmsFarm.Node.Configuration;

/// <summary>Who this node is. Section <c>KmsFarm:Node</c>.</summary>
public sealed class NodeOptions
{
    public const string SectionName = "KmsFarm:Node";

    /// <summary>Name recorded with every activation this node serves, and its silo's name in the farm's membership.
    /// Default: the machine name (the pod name in K8s).</summary>
    public string Name { get; set; } = Environment.MachineName;

    /// <summary>Optional path of a catalog file replacing the built-in product catalog.</summary>
    public string? CatalogPath { get; set; }

    /// <summary>Windows build of the KMS host the farm claims when it creates its identity (first start of the farm only;
    /// later starts use the stored identity): one of the catalog's KMS host builds (6002 … 26100). A CSVLK that cannot be
    /// installed on it (newer than it) claims the oldest build it can be installed on. Null (default): 26100.</summary>
    public int? HostBuild { get; set; }
}
