namespace KmsFarm.Node.Configuration;

/// <summary>Which store holds the ledgers and the farm identity. Section <c>KmsFarm:Store</c>.</summary>
public sealed class StoreOptions
{
    public const string SectionName = "KmsFarm:Store";

    /// <summary>The embedded single-node store in the working directory.</summary>
    public const string DefaultLocation = "sqlite:kmsfarm.db";

    /// <summary><c>sqlite:PATH</c> or <c>postgres:CONNECTION-STRING</c>. Default <see cref="DefaultLocation"/>.</summary>
    public string Location { get; set; } = DefaultLocation;
}
