namespace KmsFarm.Activation;

/// <summary>How long the activation history is kept and how its pruning runs.</summary>
public sealed record HistoryRetentionPolicy
{
    public const int DefaultBatchSize = 1000;

    /// <summary>90 days: three times the 30 days a client stays counted.</summary>
    public static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(90);

    public static readonly TimeSpan DefaultInterval = TimeSpan.FromDays(1);

    /// <summary>History rows older than this are deleted. <see cref="TimeSpan.Zero"/>: kept for ever.</summary>
    public TimeSpan Retention { get; init; } = DefaultRetention;

    /// <summary>A purge runs at most once per interval across the whole farm.</summary>
    public TimeSpan Interval { get; init; } = DefaultInterval;

    /// <summary>Rows deleted per statement: small, short transactions that never hold up the ledgers' writes for long.</summary>
    public int BatchSize { get; init; } = DefaultBatchSize;

    /// <summary>The pause between two batches.</summary>
    public TimeSpan Pause { get; init; } = TimeSpan.FromMilliseconds(50);

    public bool Enabled => Retention > TimeSpan.Zero;
}
