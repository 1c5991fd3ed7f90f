namespace KmsFarm.Client.Load;

/// <summary>Latency percentiles (nearest-rank) over a set of samples, in milliseconds.</summary>
public sealed record LatencySummary(long Count, double MeanMs, double P50Ms, double P95Ms, double P99Ms, double MaxMs)
{
    public static readonly LatencySummary Empty = new(0, 0, 0, 0, 0, 0);

    /// <summary>Summarises <paramref name="ticks"/> (Stopwatch-independent <see cref="TimeSpan"/> ticks); sorts the span in
    /// place.</summary>
    public static LatencySummary FromTicks(Span<long> ticks)
    {
        if (ticks.IsEmpty)
        {
            return Empty;
        }

        ticks.Sort();
        double sum = 0;
        foreach (long t in ticks)
        {
            sum += t;
        }

        return new LatencySummary(
            ticks.Length,
            ToMs(sum / ticks.Length),
            ToMs(Percentile(ticks, 50)),
            ToMs(Percentile(ticks, 95)),
            ToMs(Percentile(ticks, 99)),
            ToMs(ticks[^1]));
    }

    /// <summary>The nearest-rank percentile of an ascending, non-empty sample: the smallest value with at least
    /// <paramref name="percent"/>% of the samples at or below it.</summary>
    public static long Percentile(ReadOnlySpan<long> sorted, double percent)
    {
        if (sorted.IsEmpty)
        {
            throw new ArgumentException("No samples.", nameof(sorted));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(percent, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(percent, 100);
        int rank = (int)Math.Ceiling(percent / 100 * sorted.Length);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Length - 1)];
    }

    private static double ToMs(double ticks) => ticks / TimeSpan.TicksPerMillisecond;
}
