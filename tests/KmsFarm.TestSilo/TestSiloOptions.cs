namespace KmsFarm.TestSilo;

/// <summary>What differs between the silos of a test: where they cluster, under which ids, on which port.</summary>
public sealed class TestSiloOptions
{
    /// <summary>The farm database (migrated by <c>PostgresActivationStore.InitializeAsync</c>).</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>Orleans' ClusterId, the provider's DeploymentId: silos with the same one form one cluster.</summary>
    public string ClusterId { get; set; } = "";

    public string ServiceId { get; set; } = "kmsfarm-tests";

    /// <summary>Silo-to-silo port on 127.0.0.1.</summary>
    public int SiloPort { get; set; }

    public string Name { get; set; } = "silo";

    /// <summary>Orleans' own failure-detection defaults instead of <see cref="KmsFarm.Node.Hosting.SiloFailureDetection"/>, to compare them.</summary>
    public bool OrleansDefaults { get; set; }
}
