namespace KmsFarm.Client.Load;

/// <summary>Latency samples of one worker. Exact up to <see cref="Capacity"/> samples, then a uniform reservoir sample
/// (Algorithm R) so memory stays bounded on long runs; the maximum stays exact.</summary>
internal sealed class LatencyRecorder(int capacity, int seed)
{
    private readonly List<long> _samples = new(Math.Min(capacity, 4096));
    private readonly Random _random = new(seed);

    public int Capacity { get; } = capacity;

    public long Seen { get; private set; }

    public long MaxTicks { get; private set; }

    public IReadOnlyList<long> Samples => _samples;

    public void Record(TimeSpan elapsed)
    {
        long ticks = elapsed.Ticks;
        Seen++;
        MaxTicks = Math.Max(MaxTicks, ticks);
        if (_samples.Count < Capacity)
        {
            _samples.Add(ticks);
            return;
        }

        long slot = _random.NextInt64(Seen);
        if (slot < Capacity)
        {
            _samples[(int)slot] = ticks;
        }
    }

    public static LatencySummary Summarise(IEnumerable<LatencyRecorder> recorders)
    {
        var all = recorders.SelectMany(r => r.Samples).ToArray();
        var summary = LatencySummary.FromTicks(all);
        long max = recorders.Select(r => r.MaxTicks).DefaultIfEmpty(0).Max();
        long seen = recorders.Sum(r => r.Seen);
        return summary with { Count = seen, MaxMs = (double)max / TimeSpan.TicksPerMillisecond };
    }
}
