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

    /// <summary>How long the activation history is kept: older rows are deleted in the background, in small batches, once
    /// per <see cref="HistoryPurgeInterval"/> for the whole farm. Default 90 days; 0 keeps it for ever; else 1 to 36500
    /// days.</summary>
    public TimeSpan HistoryRetention { get; set; } = HistoryRetentionPolicy.DefaultRetention;

    /// <summary>How often the farm prunes its history. Default 1 day; 1 second to 30 days.</summary>
    public TimeSpan HistoryPurgeInterval { get; set; } = HistoryRetentionPolicy.DefaultInterval;
}
