using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Client.Load;

/// <summary>Running totals of a load run, for the live progress display.</summary>
public readonly record struct LoadProgress(TimeSpan Elapsed, long Requests, long Activations, long Errors)
{
    /// <summary>Requests answered with an HRESULT (also counted in <see cref="Errors"/>).</summary>
    public long Refused { get; init; }

    /// <summary>Activations and the last count a host reported, per product group the population uses.</summary>
    public IReadOnlyList<GroupProgress> Groups { get; init; } = [];

    /// <summary>The live latency histogram's counts (<see cref="LiveLatencyHistogram"/>) when this was taken.</summary>
    internal long[] LatencyBuckets { get; init; } = [];

    /// <summary>The 99th percentile latency of the activations answered since <paramref name="earlier"/>, in
    /// milliseconds (within 5 %); null when none was.</summary>
    public double? P99MsSince(LoadProgress earlier) =>
        LatencyBuckets.Length == 0 ? null
        : LiveLatencyHistogram.PercentileMs(earlier.LatencyBuckets.Length == 0 ? new long[LatencyBuckets.Length] : earlier.LatencyBuckets, LatencyBuckets, 99);
}

/// <summary>One product group's part of a run so far: activations answered and the last count a host reported.</summary>
public readonly record struct GroupProgress(ProductGroup Group, long Activations, long? LastCount);
