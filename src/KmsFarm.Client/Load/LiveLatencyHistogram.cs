namespace KmsFarm.Client.Load;

/// <summary>Latencies in log-spaced buckets (each 5 % wider than the one before, from 100 ns to about 20 minutes), counted
/// with interlocked increments so the live progress can read them while every worker records. Two snapshots give the
/// distribution of the interval between them; a percentile is its bucket's upper bound, within 5 % of the true value. The
/// final report keeps its exact percentiles (<see cref="LatencyRecorder"/>).</summary>
internal sealed class LiveLatencyHistogram
{
    private const double Growth = 1.05;
    private const int BucketCount = 512;
    private static readonly double LogGrowth = Math.Log(Growth);

    private readonly long[] _counts = new long[BucketCount];

    public void Record(TimeSpan elapsed)
    {
        long ticks = Math.Max(1, elapsed.Ticks);
        int bucket = Math.Min(BucketCount - 1, (int)(Math.Log(ticks) / LogGrowth));
        Interlocked.Increment(ref _counts[bucket]);
    }

    public long[] Snapshot()
    {
        var copy = new long[BucketCount];
        for (int i = 0; i < BucketCount; i++)
        {
            copy[i] = Interlocked.Read(ref _counts[i]);
        }

        return copy;
    }

    /// <summary>The <paramref name="percent"/>th percentile of the samples recorded between two snapshots, in
    /// milliseconds; null when none was.</summary>
    public static double? PercentileMs(long[] earlier, long[] later, double percent)
    {
        long total = 0;
        for (int i = 0; i < later.Length; i++)
        {
            total += later[i] - earlier[i];
        }

        if (total <= 0)
        {
            return null;
        }

        long rank = (long)Math.Ceiling(percent / 100 * total);
        long seen = 0;
        for (int i = 0; i < later.Length; i++)
        {
            seen += later[i] - earlier[i];
            if (seen >= rank)
            {
                return Math.Pow(Growth, i + 1) / TimeSpan.TicksPerMillisecond;
            }
        }

        return Math.Pow(Growth, later.Length) / TimeSpan.TicksPerMillisecond;
    }
}
