using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using KmsFarm.Activation;
using KmsFarm.Grains;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Runtime;
using KmsFarm.Node.Storage;
using KmsFarm.Storage.Postgres;
using Orleans.Configuration;

namespace KmsFarm.Node.Hosting;

/// <summary>The node's Orleans silo, configured in one place (STYLE §2.9).</summary>
public static class SiloHostingExtensions
{
    /// <summary>The Orleans service id of every KmsFarm cluster (what the cluster id groups: one kind of service).</summary>
    public const string ServiceId = "kmsfarm";

    /// <summary>Adds the silo: AdoNet clustering on the farm's PostgreSQL (invariant Npgsql) or a single loopback silo for
    /// the embedded store; endpoints from <see cref="FarmClusterOptions"/>; failure detection tuned so a silo that dies
    /// without notice is declared dead, and its product groups serve again from a survivor, within about 10 s; and the
    /// product-group grains' services (the store, the ledgers adapter the activation service calls).</summary>
    internal static IHostApplicationBuilder AddKmsFarmSilo(this IHostApplicationBuilder builder, NodeSettings settings)
    {
        var cluster = settings.Cluster;
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = cluster.ClusterId;
                o.ServiceId = ServiceId;
            });
            silo.Configure<SiloOptions>(o => o.SiloName = settings.NodeName);
            if (settings.Store.Kind == StoreKind.Postgres)
            {
                silo.UseAdoNetClustering(o =>
                {
                    o.Invariant = "Npgsql";
                    o.ConnectionString = PostgresConnectionString.Normalize(settings.Store.Target);
                });
            }
            else
            {
                silo.UseDevelopmentClustering(new IPEndPoint(settings.AdvertisedAddress, cluster.SiloPort));
            }

            silo.Configure<EndpointOptions>(o =>
            {
                o.AdvertisedIPAddress = settings.AdvertisedAddress;
                o.SiloPort = cluster.SiloPort;
                o.GatewayPort = cluster.GatewayPort ?? 0;

                var listen = SiloListeningAddress(settings.Store.Kind, settings.AdvertisedAddress);
                o.SiloListeningEndpoint = new IPEndPoint(listen, cluster.SiloPort);
                o.GatewayListeningEndpoint = cluster.GatewayPort is int gateway ? new IPEndPoint(listen, gateway) : null;
            });
            silo.Configure<ClusterMembershipOptions>(SiloFailureDetection.Apply);
            silo.Configure<SiloMessagingOptions>(SiloFailureDetection.Apply);
        });

        builder.Services.AddSingleton<IActivationStore>(sp => sp.GetRequiredService<NodeRuntime>().Store);
        builder.Services.AddSingleton<IProductGroupLedgers, GrainProductGroupLedgers>();
        builder.Services.AddSingleton<LocalProductGroups>();
        builder.Services.AddHostedService<ProductGroupHandOverService>();
        return builder;
    }

    /// <summary>A single embedded-store silo listens on its advertised (loopback) address only; farm silos on every
    /// address (containers, NAT).</summary>
    internal static IPAddress SiloListeningAddress(StoreKind store, IPAddress advertised) => store == StoreKind.Postgres ? IPAddress.Any : advertised;

    /// <summary>The address other silos reach this one at: <paramref name="configured"/> when set; 127.0.0.1 for a
    /// single embedded-store silo; else the first up, non-loopback IPv4 address, or 127.0.0.1 when there is none.</summary>
    internal static IPAddress ChooseAdvertisedAddress(string? configured, StoreKind store)
    {
        if (!string.IsNullOrEmpty(configured))
        {
            return IPAddress.Parse(configured);
        }

        if (store == StoreKind.Sqlite)
        {
            return IPAddress.Loopback;
        }

        var address = NetworkInterface.GetAllNetworkInterfaces()
            .Where(i => i.OperationalStatus == OperationalStatus.Up && i.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(i => i.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        return address ?? IPAddress.Loopback;
    }
}
