using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Grains.Tests;

/// <summary><see cref="IProductGroupGrain.GetStatusAsync"/> reports what the group's writer holds, which is what the store
/// committed (on the shared cluster, where these tests own the Office2010 group).</summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class StatusTests(ClusterFixture fixture)
{
    private const ProductGroup Group = ProductGroup.Office2010;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetStatus_reports_the_count_capacity_and_version_the_store_committed()
    {
        var silos = fixture.Cluster.Silos;
        var grain = GrainTestCluster.GrainOf(silos[2], Group);
        await GrainTestCluster.LedgersOf(silos[0]).ApplyAsync(Group, Attempts.NewBatch(3, 5), Ct);
        var start = await grain.GetStatusAsync();
        Assert.Equal(await StoredAsync(), start);

        // Three new clients at N_Policy 5 and a renewal of one of them (no change in count), committed as two batches.
        var batch = Attempts.NewBatch(3, 7);
        await GrainTestCluster.LedgersOf(silos[1]).ApplyAsync(Group, batch, Ct);
        await GrainTestCluster.LedgersOf(silos[0]).ApplyAsync(Group, [batch[0]], Ct);
        var status = await grain.GetStatusAsync();
        Assert.Equal(new ProductGroupStatus(Math.Min(start.Count + 3, Math.Max(start.Capacity, 14)), Math.Max(start.Capacity, 14), start.Version + 2), status);
        Assert.Equal(await StoredAsync(), status);
    }

    [Fact]
    public async Task GetStatus_while_a_commit_is_in_flight_reports_the_last_committed_state()
    {
        var store = fixture.Store;
        var silos = fixture.Cluster.Silos;
        var grain = GrainTestCluster.GrainOf(silos[0], Group);
        await GrainTestCluster.LedgersOf(silos[1]).ApplyAsync(Group, Attempts.NewBatch(2, 10), Ct);
        var committed = await grain.GetStatusAsync();
        Assert.Equal(await StoredAsync(), committed);

        // Hold the next commit in the store; meanwhile the writer has applied the batch in memory but not committed it.
        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.BeforeCommit = async (commit, ct) =>
        {
            if (commit.Group == Group)
            {
                entered.TrySetResult();
                await release.Task.WaitAsync(ct);
            }
        };
        Task<IReadOnlyList<Activation.LedgerOutcome>> applying;
        try
        {
            applying = GrainTestCluster.LedgersOf(silos[2]).ApplyAsync(Group, Attempts.NewBatch(1, 10), Ct).AsTask();
            await entered.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
            Assert.Equal(committed, await grain.GetStatusAsync());
        }
        finally
        {
            release.TrySetResult();
            store.BeforeCommit = null;
        }

        Assert.Equal(committed.Count + 1, (await applying).Single().CurrentCount);
        Assert.Equal(committed with { Count = committed.Count + 1, Version = committed.Version + 1 }, await grain.GetStatusAsync());
    }

    private async Task<ProductGroupStatus> StoredAsync()
    {
        var stored = await fixture.Store.LoadLedgerAsync(Group, Ct);
        return new ProductGroupStatus(stored.EntriesOldestFirst.Count, stored.Capacity, stored.Version);
    }
}
