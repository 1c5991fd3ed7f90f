using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using Microsoft.Extensions.Logging.Abstractions;
using static KmsFarm.Storage.Postgres.Tests.Attempts;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>Several store instances over one database, each driven by writers that load, apply and commit with the version
/// they loaded: the version fence serializes a group's commits however many writers there are (a farm normally runs one
/// per group; during a membership change Orleans can briefly run two).</summary>
[Trait("Category", "Cluster")]
public sealed class CrossNodeTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(40)]
    [InlineData(70)]
    public async Task Three_nodes_applying_concurrently_report_each_count_once(int distinct)
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var nodes = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => OpenAsync(db)));
        try
        {
            // Each node runs many ApplyAsync calls at once, in batches of 1 to 3 distinct CMIDs.
            var cmids = Cmids(distinct);
            var batches = cmids.Chunk(1 + (distinct % 3)).Select((chunk, i) => (Node: nodes[i % 3], Chunk: chunk)).ToArray();
            var results = await Task.WhenAll(batches.Select(async b =>
                await b.Node.ApplyAsync(ProductGroup.Windows, [.. b.Chunk.Select(c => For(c))], T0, Ct)));
            var outcomes = results.SelectMany(r => r).ToArray();

            const int Capacity = 50;
            int top = Math.Min(distinct, Capacity);
            Assert.All(outcomes, o => Assert.True(o.IsNewClient));
            Assert.Equal([.. Enumerable.Range(1, top), .. Enumerable.Repeat(Capacity, distinct - top)], outcomes.Select(o => o.CurrentCount).Order());
            foreach (var node in nodes)
            {
                Assert.Equal(top, (await node.GetLedgerAsync(ProductGroup.Windows, T0, Ct)).Count);
            }

            // The history, in commit order, is the single serialized order: one genuine host replaying it says the same.
            var history = await HistoryInOrderAsync(db);
            Assert.Equal(distinct, history.Count);
            Assert.Equal(Replay(history, T0), history.Select(h => h.Count!.Value));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Mixed_renewals_across_nodes_match_one_host_replaying_the_commit_order()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var nodes = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => OpenAsync(db)));
        try
        {
            // 30 machines asking 4 times each, through random nodes, N_Policy 5 (capacity 10): heavy eviction and renewal.
            var cmids = Cmids(30);
            var random = new Random(1688);
            var requests = Enumerable.Range(0, 120).Select(i => (Node: nodes[random.Next(3)], Cmid: cmids[i % 30], Machine: $"req-{i}")).ToArray();
            var answers = await Task.WhenAll(requests.Select(async r =>
                (r.Machine, (await r.Node.ApplyAsync(ProductGroup.Windows, [For(r.Cmid, nPolicy: 5, machine: r.Machine)], T0, Ct))[0].CurrentCount)));

            var history = await HistoryInOrderAsync(db);
            Assert.Equal(120, history.Count);
            Assert.Equal(Replay(history, T0), history.Select(h => h.Count!.Value));

            // What each client was told is what the history recorded for it.
            var recorded = history.ToDictionary(h => h.Machine, h => h.Count!.Value);
            Assert.All(answers, a => Assert.Equal(recorded[a.Machine], a.CurrentCount));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Two_nodes_taking_turns_count_30_clients_in_order()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using var a = await OpenAsync(db);
        await using var b = await OpenAsync(db);
        var counts = new List<int>();
        var cmids = Cmids(30);
        for (int i = 0; i < cmids.Length; i++)
        {
            counts.Add(await (i % 2 == 0 ? a : b).ApplyOneAsync(cmids[i]));
        }

        Assert.Equal(Enumerable.Range(1, 30), counts);
        Assert.Equal(30, (await a.GetLedgerAsync(ProductGroup.Windows, T0, Ct)).Count);
        Assert.Equal(30, (await b.GetLedgerAsync(ProductGroup.Windows, T0, Ct)).Count);

        // Renewals through the other node than the first visit do not add.
        Assert.Equal(30, await b.ApplyOneAsync(cmids[0]));
        Assert.Equal(30, await a.ApplyOneAsync(cmids[1]));
    }

    [Fact]
    public async Task A_writer_whose_copy_is_stale_is_fenced_writes_nothing_and_continues_after_reloading()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using var storeA = await OpenAsync(db);
        await using var storeB = await OpenAsync(db);
        var a = new ProductGroupWriter(ProductGroup.Windows, storeA, new ManualTimeProvider(T0), NullLogger.Instance);
        var b = new ProductGroupWriter(ProductGroup.Windows, storeB, new ManualTimeProvider(T0), NullLogger.Instance);
        var c = Cmids(12);

        // a holds the cache (capacity 10); b, a second writer of the same group, commits evictions of two of a's clients.
        foreach (var cmid in c[..10])
        {
            await a.ApplyAsync([For(cmid, nPolicy: 5)], Ct);
        }

        await b.LoadAsync(Ct);
        Assert.Equal([10, 10], (await b.ApplyAsync([For(c[10], nPolicy: 5), For(c[11], nPolicy: 5)], Ct)).Select(o => o.CurrentCount));

        // a's copy is stale: its commit is refused whole, nothing of it reaches the ledger or the history.
        await Assert.ThrowsAsync<LedgerVersionConflictException>(async () => await a.ApplyAsync([For(c[0], nPolicy: 5), For(Guid.NewGuid(), nPolicy: 5)], Ct));
        Assert.False(a.IsLoaded);
        Assert.Equal(12, (await HistoryInOrderAsync(db)).Count);

        // Reloaded, a sees c[0] evicted by b: it is new again, and the count stays at capacity.
        Assert.Equal(new LedgerOutcome(10, true, 10), (await a.ApplyAsync([For(c[0], nPolicy: 5)], Ct))[0]);
        Assert.DoesNotContain(c[2], (await storeB.GetLedgerAsync(ProductGroup.Windows, T0, Ct)).Entries.Select(e => e.ClientMachineId));
        var history = await HistoryInOrderAsync(db);
        Assert.Equal(Replay(history, T0), history.Select(h => h.Count!.Value));
    }

    [Fact]
    public async Task A_writer_keeps_its_copy_while_no_other_writer_commits()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var log = new ListLoggerFactory();
        await using var store = await OpenAsync(db);
        var writer = new ProductGroupWriter(ProductGroup.Windows, store, new ManualTimeProvider(T0), log.CreateLogger("writer"));
        foreach (var cmid in Cmids(5))
        {
            await writer.ApplyAsync([For(cmid)], Ct);
        }

        Assert.Equal(1, log.Events.Count(e => e == "LedgerLoaded"));
        Assert.Equal(5, writer.Version);
        Assert.Equal(5L, await ScalarAsync<long>(db, "SELECT version FROM ledger_group WHERE group_id = 0"));
    }
}
