using System.Diagnostics.Metrics;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Runtime;
using KmsFarm.Node.Storage;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Diagnostics;

/// <summary><c>kms.node.info</c> on meter <c>KmsFarm</c>: always 1, its tags say which node this is (name, build, store kind,
/// durability, cluster id), for joins and tables in dashboards (Prometheus' <c>*_info</c> pattern).</summary>
public sealed class NodeInfoMetrics
{
    public NodeInfoMetrics(
        IMeterFactory meterFactory, IOptions<NodeOptions> node, IOptions<StoreOptions> store, IOptions<FarmClusterOptions> cluster)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        string storeKind = StoreLocation.TryParse(store.Value.Location, out var location, out _)
            ? location.Kind.ToString().ToLowerInvariant()
            : "unknown";
        KeyValuePair<string, object?>[] tags =
        [
            new("kms.node.name", node.Value.Name),
            new("kms.node.version", NodeBuild.Version),
            new("kms.store.kind", storeKind),
            new("kms.store.durability", store.Value.Durability.ToString().ToLowerInvariant()),
            new("kms.cluster.id", cluster.Value.ClusterId),
        ];
        meterFactory.Create(KmsMetrics.MeterName).CreateObservableGauge(
            "kms.node.info", () => new Measurement<int>(1, tags), unit: null, description: "Always 1; the tags identify the node.");
    }
}
