using KmsFarm.Activation;

namespace KmsFarm.Node.Configuration;

/// <summary>Which store holds the ledgers and the farm identity. Section <c>KmsFarm:Store</c>.</summary>
public sealed class StoreOptions
{
    public const string SectionName = "KmsFarm:Store";

    /// <summary>The embedded single-node store in the working directory.</summary>
    public const string DefaultLocation = "sqlite:kmsfarm.db";

    /// <summary><c>sqlite:PATH</c> or <c>postgres:CONNECTION-STRING</c>. Default <see cref="DefaultLocation"/>.</summary>
    public string Location { get; set; } = DefaultLocation;

    /// <summary>When an activation is answered: <see cref="StoreDurability.Process"/> (default) once the database has the
    /// write, without waiting for its disk flush; <see cref="StoreDurability.Fsync"/> after the flush.</summary>
    public StoreDurability Durability { get; set; } = StoreDurability.Process;
}
