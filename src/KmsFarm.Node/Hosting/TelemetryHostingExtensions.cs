using KmsFarm.Grains;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Node.Runtime;
using Npgsql;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace KmsFarm.Node.Hosting;

/// <summary><c>/metrics</c> on the node's HTTP endpoint: the OpenTelemetry SDK collects the meters below and its Prometheus
/// exporter writes the exposition (docs/metrics.md lists our instruments and their Prometheus names).</summary>
public static class TelemetryHostingExtensions
{
    /// <summary>The scrape path.</summary>
    public const string MetricsPath = "/metrics";

    /// <summary>Meters exported besides ours (<see cref="KmsMetrics.MeterName"/>), the runtime's and the process's: the
    /// silo's, and ASP.NET Core's (Kestrel counts the KMS connections too, tagged with <c>server.port</c>).</summary>
    public static readonly IReadOnlyList<string> FrameworkMeters =
    [
        "Microsoft.Orleans",
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics",
    ];

    /// <summary>Registers our instruments and the meter provider with its Prometheus exporter.</summary>
    internal static IHostApplicationBuilder AddKmsFarmTelemetry(this IHostApplicationBuilder builder, NodeSettings settings)
    {
        var services = builder.Services;
        services.AddMetrics();
        services.AddSingleton<KmsMetrics>();
        services.AddSingleton<StoreMetrics>();
        services.AddSingleton<ProductGroupMetrics>();
        services.AddSingleton<NodeInfoMetrics>();
        services.AddOpenTelemetry()
            .ConfigureResource(resource =>
                resource.AddService("kmsfarm-node", serviceVersion: NodeBuild.Version, serviceInstanceId: settings.NodeName))
            .WithMetrics(metrics => metrics
                .AddMeter(KmsMetrics.MeterName)
                .AddMeter([.. FrameworkMeters])
                .AddRuntimeInstrumentation()
                .AddProcessInstrumentation()
                .AddNpgsqlInstrumentation()
                .AddView(PrometheusLintViews.Configure)
                .AddPrometheusExporter());
        return builder;
    }

    /// <summary>Maps <see cref="MetricsPath"/> and creates the instruments that exist from the start (the node info gauge),
    /// so a scrape of a node that has served nothing yet already says which node it is.</summary>
    internal static WebApplication MapKmsFarmMetrics(this WebApplication app)
    {
        app.Services.GetRequiredService<NodeInfoMetrics>();
        app.Services.GetRequiredService<KmsMetrics>();
        app.MapPrometheusScrapingEndpoint(MetricsPath);
        return app;
    }
}
