using KmsFarm.TestKit;

namespace KmsFarm.Grains.Tests;

/// <summary>Three silos over one shared <see cref="InMemoryActivationStore"/>, started once for the tests of the
/// <see cref="ClusterCollection"/> (Orleans' own tests share a cluster the same way). The store outlives every test, so
/// each test owns a product group: concurrency the Windows group (it needs it fresh), status Office2010, fencing
/// Office2013Plus. Tests that stop or kill silos build their own cluster.</summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    private GrainTestCluster? _cluster;

    public GrainTestCluster Cluster => _cluster ?? throw new InvalidOperationException("The cluster is not started.");

    public InMemoryActivationStore Store => Cluster.Store;

    public async ValueTask InitializeAsync() => _cluster = await GrainTestCluster.StartAsync(3);

    public async ValueTask DisposeAsync()
    {
        if (_cluster is { } cluster)
        {
            await cluster.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "Grain cluster";
}
