using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using Microsoft.Extensions.Logging.Abstractions;

namespace KmsFarm.Grains.Tests;

/// <summary>Two writers of one group (what a membership change can briefly produce): the store's version fence stops the
/// one whose copy is stale, its grain answers <see cref="ApplyResult.Fenced"/> and goes, the node sends the batch once
/// more, and no client is ever answered from a stale copy.</summary>
[Trait("Category", "Cluster")]
public sealed class FencingTests
{
    /// <summary>N_Policy 500: capacity 1000, above anything these tests commit, so a stale copy's count would repeat one.</summary>
    private const int NPolicy = 500;

    private const ProductGroup Group = ProductGroup.Windows;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_clusters_writing_one_group_in_turn_are_fenced_and_every_answer_follows_one_serialized_order()
    {
        // Two farms that cannot see each other, over one store: each activates its own Windows grain.
        var store = new InMemoryActivationStore();
        await using var a = await GrainTestCluster.StartAsync(1, store, Ct);
        await using var b = await GrainTestCluster.StartAsync(1, store, Ct);
        IProductGroupLedgers[] nodes = [GrainTestCluster.LedgersOf(a.Silos[0]), GrainTestCluster.LedgersOf(b.Silos[0])];

        var told = new List<(Guid Cmid, int Count)>();
        for (int call = 0; call < 30; call++)
        {
            var batch = Attempts.NewBatch(1 + (call % 3), NPolicy);
            var outcomes = await nodes[call % 2].ApplyAsync(Group, batch, Ct);
            told.AddRange(batch.Zip(outcomes, (attempt, outcome) => (attempt.ClientMachineId, outcome.CurrentCount)));
        }

        // Every call was answered, each with the next counts: one order, as if there were one writer.
        Assert.Equal(Enumerable.Range(1, told.Count), told.Select(t => t.Count));
        var rows = History.Of(store.History, Group);
        Assert.Equal(told.Count, rows.Length);
        History.AssertReplaysConsistently(rows, Group);
        History.AssertToldCountsAreInHistory(rows, told);

        // From the third call on, each grain finds the other wrote since its load: fenced, then served after a reload.
        Assert.True(store.Conflicts >= 28, $"{store.Conflicts} fenced commits");
    }

    [Fact]
    public async Task Two_clusters_writing_one_group_at_once_never_answer_from_a_stale_copy()
    {
        var store = new InMemoryActivationStore();
        await using var a = await GrainTestCluster.StartAsync(1, store, Ct);
        await using var b = await GrainTestCluster.StartAsync(1, store, Ct);
        IProductGroupLedgers[] nodes = [GrainTestCluster.LedgersOf(a.Silos[0]), GrainTestCluster.LedgersOf(b.Silos[0])];

        int calls = 0;
        var load = new LedgerLoad();
        await load.RunAsync(nodes, workers: 6, Group, random => Interlocked.Increment(ref calls) <= 240 ? Attempts.NewBatch(random.Next(1, 4), NPolicy) : null, Ct)
            .WaitAsync(TimeSpan.FromSeconds(60), Ct);

        // A call either got counts or failed, never a stale count. Failures: fenced twice in a row, or the call was forwarded
        // twice to activations that were deactivating after a fence and rejected unprocessed. Either way the node closes
        // the client's connection and nothing of the batch was written.
        var failures = load.Calls.Where(c => !c.Succeeded).ToArray();
        Assert.All(failures, f => Assert.True(f.Error is LedgerVersionConflictException or OrleansMessageRejectionException, f.Error!.ToString()));
        Assert.All(failures, f => Assert.DoesNotContain(store.History, r => f.Attempts.Any(a => a.ClientMachineId == r.ClientMachineId)));
        var told = load.Told().ToArray();
        Assert.Equal(told.Length, told.Select(t => t.Count).Distinct().Count());
        var rows = History.Of(store.History, Group);
        Assert.Equal(Enumerable.Range(1, rows.Length), rows.Select(r => r.CurrentCount!.Value));
        History.AssertReplaysConsistently(rows, Group);
        History.AssertToldCountsAreInHistory(rows, told);
        Assert.True(store.Conflicts > 0, "the two writers never met the fence");
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{load.Calls.Count} calls, {failures.Count(f => f.Error is LedgerVersionConflictException)} fenced twice, " +
            $"{failures.Count(f => f.Error is OrleansMessageRejectionException)} rejected; {store.Conflicts} fenced commits; " +
            $"{rows.Length} rows committed, {told.Length} told");
    }
}

/// <summary>The fence seen from the grain itself, on the shared cluster (it owns the Office2013Plus group there).</summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class FencedGrainTests(ClusterFixture fixture)
{
    private const ProductGroup Group = ProductGroup.Office2013Plus;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_grain_whose_group_another_writer_moved_answers_Fenced_writes_nothing_and_the_next_activation_carries_on()
    {
        var store = fixture.Store;
        var silos = fixture.Cluster.Silos;
        var grain = GrainTestCluster.GrainOf(silos[1], Group);
        var before = await grain.ApplyAsync(new ActivationBatch(Attempts.NewBatch(2, 25)));
        Assert.False(before.Fenced);

        // Another writer (a second activation elsewhere, say) commits: the grain's copy is now stale.
        var other = new ProductGroupWriter(Group, store, TimeProvider.System, NullLogger.Instance);
        var moved = await other.ApplyAsync(Attempts.NewBatch(1, 25), Ct);
        int conflicts = store.Conflicts;
        var deactivated = fixture.Cluster.Cluster.WaitForDeactivationAsync(grain);

        var batch = Attempts.NewBatch(3, 25);
        var fenced = await grain.ApplyAsync(new ActivationBatch(batch));
        Assert.True(fenced.Fenced);
        Assert.Empty(fenced.Outcomes);
        Assert.Equal(conflicts + 1, store.Conflicts);
        Assert.DoesNotContain(store.History, r => batch.Any(a => a.ClientMachineId == r.ClientMachineId));

        // The fenced activation goes; the next call activates the group again from the store and counts on from there.
        await deactivated.WaitAsync(TimeSpan.FromSeconds(30), Ct);
        var again = await grain.ApplyAsync(new ActivationBatch(batch));
        Assert.False(again.Fenced);
        Assert.Equal(Enumerable.Range(moved[0].CurrentCount + 1, 3), again.Outcomes.Select(o => o.CurrentCount));
        History.AssertReplaysConsistently(History.Of(store.History, Group), Group);
    }
}
