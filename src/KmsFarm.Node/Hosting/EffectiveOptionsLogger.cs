using KmsFarm.Node.Configuration;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Node.Storage;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Hosting;

/// <summary>Logs the effective settings once at start, with the store's password redacted.</summary>
internal sealed class EffectiveOptionsLogger(
    IOptions<KmsListenerOptions> listener,
    IOptions<AccessControlOptions> access,
    IOptions<StoreOptions> store,
    IOptions<NodeOptions> node,
    IOptions<FarmClusterOptions> cluster,
    IOptions<KmsFarm.Activation.ActivationPolicyOptions> policy,
    NodeEndpoints endpoints,
    ILogger<EffectiveOptionsLogger> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        var l = listener.Value;
        var a = access.Value;
        string storeText = StoreLocation.TryParse(store.Value.Location, out var location, out _) ? location.Redacted : "(invalid)";
        logger.EffectiveOptions(
            node.Value.Name,
            string.Join(", ", l.EffectiveKmsEndpoints),
            l.HttpEndpoint,
            storeText,
            store.Value.HistoryRetention == TimeSpan.Zero ? "for ever" : $"{store.Value.HistoryRetention.TotalDays:0.##} days, pruned every {store.Value.HistoryPurgeInterval}",
            l.MaxConnections,
            l.IdleTimeout,
            string.Join(", ", a.EffectiveAllow),
            a.Deny.Count == 0 ? "(none)" : string.Join(", ", a.Deny),
            node.Value.CatalogPath ?? "(built-in)");
        logger.AdmissionSettings(
            l.MaxConnections,
            Math.Min(l.MaxConnectionsPerSource, l.MaxConnections),
            l.HandshakeTimeout,
            l.IdleTimeout,
            l.ConnectionLifetime,
            l.RequestRate > 0
                ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{l.RequestRate}/s, burst {l.RequestBurst}")
                : "unlimited");
        var c = cluster.Value;
        string clustering = location?.Kind == StoreKind.Postgres ? "membership in the PostgreSQL store" : "single silo on loopback";
        var advertised = SiloHostingExtensions.ChooseAdvertisedAddress(c.AdvertisedAddress, location?.Kind ?? StoreKind.Sqlite);
        logger.SiloSettings(node.Value.Name, c.ClusterId, clustering, $"{advertised}:{c.SiloPort}",
            c.GatewayPort is int gateway ? gateway.ToString(System.Globalization.CultureInfo.InvariantCulture) : "none", store.Value.Durability.ToString());
        var p = policy.Value;
        logger.ActivationPolicy(
            p.ActivationIntervalMinutes,
            p.RenewalIntervalMinutes,
            p.MinimumReportedCount.Count == 0 ? "none" : string.Join(", ", p.MinimumReportedCount.Select(f => $"{f.Key} {f.Value}")),
            p.ServedCsvlks.Count == 0 ? "all of the catalog" : string.Join(", ", p.ServedCsvlks));
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The bound KMS addresses (Kestrel's own "Now listening" lines call every endpoint http://).</summary>
    public Task StartedAsync(CancellationToken cancellationToken)
    {
        foreach (var endPoint in endpoints.KmsEndPoints)
        {
            logger.ListenerStarted(endPoint);
        }

        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
