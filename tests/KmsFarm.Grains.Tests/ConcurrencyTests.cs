using System.Collections.Concurrent;
using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Grains.Tests;

/// <summary>Every node calls the one activation of a group: concurrent batches from all silos are counted in one
/// serialized order, and the calls that arrive while a commit is in flight go to the store as one batch.</summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class ConcurrencyTests(ClusterFixture fixture)
{
    private const ProductGroup Group = ProductGroup.Windows;

    /// <summary>N_Policy 25: the cache holds 50 CMIDs.</summary>
    private const int NPolicy = 25;

    private const int Capacity = 2 * NPolicy;

    private const int Clients = 300;

    private const int Workers = 12;

    /// <summary>A database's round trip: long enough that calls arriving meanwhile queue for the next commit.</summary>
    private static readonly TimeSpan CommitLatency = TimeSpan.FromMilliseconds(3);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Concurrent_batches_through_every_silo_are_counted_in_one_order_by_one_activation_in_group_commits()
    {
        var store = fixture.Store;
        Assert.Empty(History.Of(store.History, Group));
        var random = new Random(1688);
        var batches = new ConcurrentQueue<ActivationAttempt[]>();
        for (int queued = 0; queued < Clients;)
        {
            int size = Math.Min(random.Next(1, 6), Clients - queued);
            batches.Enqueue(Attempts.NewBatch(size, NPolicy));
            queued += size;
        }

        int batchCount = batches.Count;
        int commitsBefore = store.BatchSizes.Count;
        store.BeforeCommit = (commit, ct) => commit.Group == Group ? new ValueTask(Task.Delay(CommitLatency, ct)) : default;
        var load = new LedgerLoad();
        try
        {
            var nodes = fixture.Cluster.Silos.Select(GrainTestCluster.LedgersOf).ToArray();
            await load.RunAsync(nodes, Workers, Group, _ => batches.TryDequeue(out var batch) ? batch : null, Ct)
                .WaitAsync(TimeSpan.FromSeconds(60), Ct);
        }
        finally
        {
            store.BeforeCommit = null;
        }

        var calls = load.Calls;
        Assert.True(calls.All(c => c.Succeeded), load.Describe());
        Assert.Equal(batchCount, calls.Count);
        Assert.Equal(3, calls.Select(c => c.Via).Distinct().Count());

        // Below capacity every answer is a new count: 1..50 once each; after that the cache is full and says 50.
        var told = load.Told().ToArray();
        Assert.Equal(Clients, told.Length);
        Assert.Equal(
            Enumerable.Range(1, Capacity - 1).Concat(Enumerable.Repeat(Capacity, Clients - Capacity + 1)),
            told.Select(t => t.Count).Order());

        // The history, in commit order, is one genuine host's: replayed on a fresh ledger it reports the same counts.
        var rows = History.Of(store.History, Group);
        Assert.Equal(told.Select(t => t.Cmid).Order(), rows.Select(r => r.ClientMachineId).Order());
        History.AssertReplaysConsistently(rows, Group);
        History.AssertToldCountsAreInHistory(rows, told);

        // One writer in the cluster.
        Assert.Single(await fixture.Cluster.ActivationsOfAsync(Group));

        // Group commit: calls that overlapped went to the store together.
        var commits = store.BatchSizes.Skip(commitsBefore).ToArray();
        Assert.Equal(Clients, commits.Sum());
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{calls.Count} calls of 1-5 attempts from {Workers} workers over 3 silos became {commits.Length} commits " +
            $"(largest {commits.Max()} attempts)");
        Assert.True(commits.Length < calls.Count, $"{calls.Count} calls, {commits.Length} commits: no two calls shared a commit");
    }
}
