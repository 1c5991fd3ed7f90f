namespace KmsFarm.Grains;

/// <summary>The farm's history retention: one grain (key 0) for the whole farm, which Orleans keeps on one silo at a time
/// and moves to a survivor when that silo goes. It purges on a grain timer; the store's claim makes a purge run once per
/// interval even when Orleans briefly runs two activations.</summary>
[Alias("kmsfarm.history-retention")]
public interface IHistoryRetentionGrain : IGrainWithIntegerKey
{
    /// <summary>Activates the grain (its timer then runs while the farm does); every node calls this now and then, so the
    /// grain comes back on a surviving silo after its own silo went.</summary>
    [Alias("ensure-running")]
    Task EnsureRunningAsync();

    /// <summary>Purges now if the farm's interval allows it: the rows deleted, or null when not due.</summary>
    [Alias("run-now")]
    Task<long?> RunNowAsync();
}
