using System.Net;
using KmsFarm.Node.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace KmsFarm.TestSilo;

/// <summary>Builds one silo host: AdoNet clustering on PostgreSQL (invariant <c>Npgsql</c>), loopback silo port, and no
/// gateway (GatewayPort 0: Orleans then starts no gateway listener and writes ProxyPort 0 in its membership row; grains
/// are reached through the silo's own IGrainFactory, so no client needs one).</summary>
public static class TestSiloHost
{
    public const string Invariant = "Npgsql";

    public static IHost Build(TestSiloOptions options, Action<ILoggingBuilder>? logging = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.ClearProviders();
        logging?.Invoke(builder.Logging);
        builder.UseOrleans(silo =>
        {
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = Invariant;
                o.ConnectionString = options.ConnectionString;
            });
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = options.ClusterId;
                o.ServiceId = options.ServiceId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = options.Name);
            // listenOnAnyHostAddress stays false: true would also set a gateway listening endpoint (on port 0).
            silo.ConfigureEndpoints(IPAddress.Loopback, options.SiloPort, gatewayPort: 0);
            if (!options.OrleansDefaults)
            {
                silo.Configure<ClusterMembershipOptions>(SiloFailureDetection.Apply);
            }
        });
        // Stop within seconds when asked to: graceful shutdown waits for the silo to leave the cluster.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        return builder.Build();
    }
}
