using KmsFarm.Activation;
using KmsFarm.Node.Hosting;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace KmsFarm.Grains.Tests;

/// <summary>An <see cref="InProcessTestCluster"/> of silos configured like the farm's nodes: the product-group grains
/// over one shared <see cref="InMemoryActivationStore"/> (what PostgreSQL is to a farm), <see cref="TimeProvider.System"/>,
/// and the node's own failure detection and response timeout (<see cref="SiloFailureDetection"/>). Calls go the way a node
/// makes them: <see cref="GrainProductGroupLedgers"/> over a silo's own <see cref="IGrainFactory"/>.</summary>
public sealed class GrainTestCluster : IAsyncDisposable
{
    private GrainTestCluster(InProcessTestCluster cluster, InMemoryActivationStore store, SiloLog log)
    {
        Cluster = cluster;
        Store = store;
        Log = log;
    }

    /// <summary>The silos' warnings and errors.</summary>
    internal SiloLog Log { get; }

    public InProcessTestCluster Cluster { get; }

    public InMemoryActivationStore Store { get; }

    /// <summary>The silos still running, in start order.</summary>
    public IReadOnlyList<InProcessSiloHandle> Silos => Cluster.GetActiveSilos().ToArray();

    /// <summary>Starts <paramref name="silos"/> silos over <paramref name="store"/> (a new one when null) and waits until
    /// each sees all of them active.</summary>
    public static async Task<GrainTestCluster> StartAsync(short silos, InMemoryActivationStore? store = null, CancellationToken cancellationToken = default)
    {
        store ??= new InMemoryActivationStore();
        var builder = new InProcessTestClusterBuilder(silos);
        builder.Options.ConfigureFileLogging = false;
        var log = new SiloLog();
        builder.ConfigureSiloHost((silo, host) => host.Logging.AddProvider(log.ProviderFor(silo.SiloName)));
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<IActivationStore>(store);
            silo.Services.AddSingleton(TimeProvider.System);
            silo.Services.AddSingleton<LocalProductGroups>();
            silo.Services.AddHostedService<ProductGroupHandOverService>();
            silo.Configure<ClusterMembershipOptions>(SiloFailureDetection.Apply);
            silo.Configure<SiloMessagingOptions>(SiloFailureDetection.Apply);
        });

        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync(cancellationToken);
            return new GrainTestCluster(cluster, store, log);
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public static IGrainFactory GrainFactoryOf(InProcessSiloHandle silo) => silo.ServiceProvider.GetRequiredService<IGrainFactory>();

    /// <summary>What the node hosted with <paramref name="silo"/> calls its ledgers through.</summary>
    public static GrainProductGroupLedgers LedgersOf(InProcessSiloHandle silo) => new(GrainFactoryOf(silo));

    public static IProductGroupGrain GrainOf(InProcessSiloHandle silo, ProductGroup group) =>
        GrainFactoryOf(silo).GetGrain<IProductGroupGrain>(ProductGroupGrainKey.For(group));

    /// <summary>The silos that hold an activation of <paramref name="group"/>'s grain, one entry per activation, as the
    /// running silos report them (<c>IManagementGrain.GetDetailedGrainStatistics</c>).</summary>
    public async Task<IReadOnlyList<SiloAddress>> ActivationsOfAsync(ProductGroup group)
    {
        var silo = Silos[0];
        var factory = GrainFactoryOf(silo);
        var grainId = factory.GetGrain<IProductGroupGrain>(ProductGroupGrainKey.For(group)).GetGrainId();
        var hosts = Silos.Select(s => s.SiloAddress).ToArray();
        var statistics = await factory.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics(null, hosts);
        return statistics.Where(s => s.GrainId == grainId).Select(s => s.SiloAddress).ToArray();
    }

    /// <summary>The running silo that holds <paramref name="group"/>'s one activation.</summary>
    public async Task<InProcessSiloHandle> HostOfAsync(ProductGroup group)
    {
        var address = Assert.Single(await ActivationsOfAsync(group));
        return Silos.Single(s => s.SiloAddress.Equals(address));
    }

    /// <summary>Kills the silos still running (the test is over: nothing needs a graceful stop) and disposes the cluster.
    /// A silo that fails to stop is noted in <see cref="Log"/>, not thrown, so a test's own failure is what it reports.</summary>
    public async ValueTask DisposeAsync()
    {
        await Cluster.StopClusterClientAsync();
        foreach (var silo in Silos)
        {
            try
            {
                await Cluster.KillSiloAsync(silo);
            }
#pragma warning disable CA1031 // Teardown goes on; the failure is kept in the log.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.Note($"{silo.Name} did not stop cleanly: {e.GetType().Name}: {e.Message}");
            }
        }

        await Cluster.DisposeAsync();
    }
}
