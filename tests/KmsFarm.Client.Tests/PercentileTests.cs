using KmsFarm.Client.Load;

namespace KmsFarm.Client.Tests;

public sealed class PercentileTests
{
    [Fact]
    public void Nearest_rank_percentiles_of_1_to_100()
    {
        long[] sorted = Enumerable.Range(1, 100).Select(i => (long)i).ToArray();

        Assert.Equal(50, LatencySummary.Percentile(sorted, 50));
        Assert.Equal(95, LatencySummary.Percentile(sorted, 95));
        Assert.Equal(99, LatencySummary.Percentile(sorted, 99));
        Assert.Equal(100, LatencySummary.Percentile(sorted, 100));
        Assert.Equal(1, LatencySummary.Percentile(sorted, 0));
        Assert.Equal(1, LatencySummary.Percentile(sorted, 1));
    }

    [Fact]
    public void Nearest_rank_with_few_samples()
    {
        long[] sorted = [10, 20, 30, 40, 50];

        Assert.Equal(30, LatencySummary.Percentile(sorted, 50));
        Assert.Equal(50, LatencySummary.Percentile(sorted, 95));
        Assert.Equal(20, LatencySummary.Percentile(sorted, 40));
        Assert.Equal(30, LatencySummary.Percentile(sorted, 40.1));
        Assert.Equal(7, LatencySummary.Percentile([7], 99));
        Assert.Throws<ArgumentException>(() => LatencySummary.Percentile([], 50));
    }

    [Fact]
    public void Summary_sorts_and_converts_to_milliseconds()
    {
        // 1..1000 ms in shuffled order.
        var ticks = Enumerable.Range(1, 1000).Select(i => i * TimeSpan.TicksPerMillisecond).OrderBy(t => (t * 7919) % 1000).ToArray();

        var summary = LatencySummary.FromTicks(ticks);

        Assert.Equal(1000, summary.Count);
        Assert.Equal(500, summary.P50Ms);
        Assert.Equal(950, summary.P95Ms);
        Assert.Equal(990, summary.P99Ms);
        Assert.Equal(1000, summary.MaxMs);
        Assert.Equal(500.5, summary.MeanMs, 6);
        Assert.Equal(LatencySummary.Empty, LatencySummary.FromTicks([]));
    }

    [Fact]
    public void Recorders_stay_bounded_but_keep_the_exact_count_and_maximum()
    {
        var a = new LatencyRecorder(capacity: 100, seed: 1);
        var b = new LatencyRecorder(capacity: 100, seed: 2);
        for (int i = 1; i <= 10_000; i++)
        {
            a.Record(TimeSpan.FromMilliseconds(i % 50));
            b.Record(TimeSpan.FromMilliseconds(2));
        }

        a.Record(TimeSpan.FromSeconds(3));

        Assert.Equal(100, a.Samples.Count);
        var summary = LatencyRecorder.Summarise([a, b]);
        Assert.Equal(20_001, summary.Count);
        Assert.Equal(3000, summary.MaxMs);
        Assert.InRange(summary.P50Ms, 2, 49);
    }

    [Fact]
    public void Below_capacity_the_recorder_is_exact()
    {
        var recorder = new LatencyRecorder(capacity: 1000, seed: 3);
        for (int i = 1; i <= 100; i++)
        {
            recorder.Record(TimeSpan.FromMilliseconds(i));
        }

        var summary = LatencyRecorder.Summarise([recorder]);

        Assert.Equal(95, summary.P95Ms);
        Assert.Equal(99, summary.P99Ms);
        Assert.Equal(100, summary.MaxMs);
    }
}
