using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Configuration;
using Orleans.TestingHost;

namespace KmsFarm.Grains.Tests;

/// <summary>An <see cref="InProcessTestCluster"/> of silos configured like the farm's nodes: the product-group grains
/// over one shared <see cref="InMemoryActivationStore"/> (what PostgreSQL is to a farm), <see cref="TimeProvider.System"/>,
/// and the node's failure detection and response timeout (<see cref="NodeSiloSettings"/>). Calls go the way a node makes
/// them: <see cref="GrainProductGroupLedgers"/> over a silo's own <see cref="IGrainFactory"/>.</summary>
public sealed class GrainTestCluster : IAsyncDisposable
{
    private GrainTestCluster(InProcessTestCluster cluster, InMemoryActivationStore store)
    {
        Cluster = cluster;
        Store = store;
    }

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
        builder.ConfigureSilo((_, silo) =>
        {
            silo.Services.AddSingleton<IActivationStore>(store);
            silo.Services.AddSingleton(TimeProvider.System);
            silo.Configure<ClusterMembershipOptions>(NodeSiloSettings.Apply);
            silo.Configure<SiloMessagingOptions>(NodeSiloSettings.Apply);
        });

        var cluster = builder.Build();
        try
        {
            await cluster.DeployAsync(cancellationToken);
            return new GrainTestCluster(cluster, store);
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

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Cluster.StopAllSilosAsync();
        }
        finally
        {
            await Cluster.DisposeAsync();
        }
    }
}
