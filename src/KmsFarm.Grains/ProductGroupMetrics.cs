using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Grains;

/// <summary>The product-group grains' instruments on meter <c>KmsFarm</c> (docs/metrics.md): how long a grain takes to
/// answer a node's batch, and the farm-wide state of each group — current count, threshold, capacity, clients seen in 30
/// days.</summary>
/// <remarks>
/// The gauges are reported by the silo that hosts the group's grain, from what the grain holds in memory: the grain
/// publishes here after it loads and after every commit, and withdraws when it deactivates. A scrape reads the last
/// published values; it never calls a grain or the store. So each group is reported by one node of the farm (two for the
/// moment of a membership change when two activations overlap); dashboards and rules take <c>max by (kms_product_group)</c>.
/// One per silo (a singleton); thread-safe.
/// </remarks>
public sealed class ProductGroupMetrics
{
    public const string MeterName = "KmsFarm";

    private readonly Histogram<double> _applyDuration;
    private readonly Lock _lock = new();
    private readonly Dictionary<ProductGroup, Hosted> _hosted = [];

    public ProductGroupMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(MeterName);
        _applyDuration = meter.CreateHistogram(
            "kms.product_group.apply.duration", "s",
            "Time a product-group grain takes to answer one node's batch: waiting for the write in flight, then its own commit.",
            advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
            });
        meter.CreateObservableGauge(
            "kms.product_group.clients", () => Observe(h => h.Count), "{client}",
            "Clients in the group's CMID cache: the current count a KMS host reports (reported by the silo hosting the group).");
        meter.CreateObservableGauge(
            "kms.product_group.threshold", () => Observe(h => h.Capacity / 2), "{client}",
            "The group's activation threshold: the largest N_Policy its clients sent (25 Windows client, 5 server and Office).");
        meter.CreateObservableGauge(
            "kms.product_group.capacity", () => Observe(h => h.Capacity), "{client}",
            "Most CMIDs the group's cache holds: 2 x the largest N_Policy seen.");
        meter.CreateObservableGauge(
            "kms.clients.active", () => Observe(h => h.ActiveClients), "{client}",
            "Distinct clients of the group seen in the last 30 days (client inventory, refreshed by the grain every 15 s).");
    }

    /// <summary>Bounded <c>kms.product.group</c> tag value of a group.</summary>
    public static string GroupTag(ProductGroup group) => group switch
    {
        ProductGroup.Windows => "windows",
        ProductGroup.Office2010 => "office2010",
        ProductGroup.Office2013Plus => "office2013plus",
        _ => "unknown",
    };

    /// <summary>The grain <paramref name="owner"/> holds <paramref name="group"/>'s cache with these values.</summary>
    public void PublishLedger(object owner, ProductGroup group, int count, int capacity) =>
        Update(owner, group, h => h with { Count = count, Capacity = capacity });

    /// <summary>The grain <paramref name="owner"/> counted the group's clients seen in the last 30 days.</summary>
    public void PublishActiveClients(object owner, ProductGroup group, int clients) =>
        Update(owner, group, h => h with { ActiveClients = clients });

    /// <summary>The grain <paramref name="owner"/> no longer holds <paramref name="group"/> on this silo.</summary>
    public void Withdraw(object owner, ProductGroup group)
    {
        lock (_lock)
        {
            if (_hosted.TryGetValue(group, out var hosted) && ReferenceEquals(hosted.Owner, owner))
            {
                _hosted.Remove(group);
            }
        }
    }

    /// <summary><paramref name="result"/>: <c>committed</c>, <c>fenced</c> or <c>error</c>.</summary>
    public void ApplyCompleted(ProductGroup group, string result, double seconds)
    {
        if (_applyDuration.Enabled)
        {
            ApplyCompletedCore(group, result, seconds);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ApplyCompletedCore(ProductGroup group, string result, double seconds) =>
        _applyDuration.Record(seconds, new TagList { { "kms.product.group", GroupTag(group) }, { "kms.result", result } });

    /// <summary>A newer activation of the group on this silo replaces the entry; an older one's late update is ignored
    /// once it withdrew (it can no longer find its entry).</summary>
    private void Update(object owner, ProductGroup group, Func<Hosted, Hosted> change)
    {
        lock (_lock)
        {
            var current = _hosted.TryGetValue(group, out var hosted) && ReferenceEquals(hosted.Owner, owner)
                ? hosted
                : new Hosted(owner, 0, 0, null);
            _hosted[group] = change(current);
        }
    }

    private List<Measurement<int>> Observe(Func<Hosted, int?> value)
    {
        lock (_lock)
        {
            var measurements = new List<Measurement<int>>(_hosted.Count);
            foreach (var (group, hosted) in _hosted)
            {
                if (value(hosted) is int v)
                {
                    measurements.Add(new Measurement<int>(v, new KeyValuePair<string, object?>("kms.product.group", GroupTag(group))));
                }
            }

            return measurements;
        }
    }

    private sealed record Hosted(object Owner, int Count, int Capacity, int? ActiveClients);
}
