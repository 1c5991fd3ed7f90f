using System.Diagnostics;
using KmsFarm.TestKit;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>Farm membership is the Orleans membership table in the farm's database: every node's silo joins it, any node
/// lists them all on <c>/api/nodes</c>, and a stopped node shows as Dead there while the others keep serving.</summary>
[Trait("Category", "Cluster")]
public sealed class FarmMembershipTests(PostgresFixture postgres)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_nodes_are_two_active_silos_of_one_cluster_and_a_stopped_one_shows_as_dead()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using var a = await FarmNode.StartAsync(db, "node-a", Ct);
        await using var b = await FarmNode.StartAsync(db, "node-b", Ct);

        // Both silos in the AdoNet membership table of the farm's database, Active (SiloStatus 3).
        Assert.Equal(2, await Attempts.ScalarAsync<long>(db, "SELECT count(*) FROM orleans_membership WHERE status = 3"));
        foreach (var reader in new[] { a, b })
        {
            var listed = await WaitForAsync(reader, view => view.Count(n => n.Status == "Active") == 2);
            Assert.Equal(["node-a", "node-b"], listed.Select(n => n.Name));
            Assert.All(listed, n => Assert.StartsWith("127.0.0.1:", n.Address, StringComparison.Ordinal));
            Assert.All(listed, n => Assert.True(n.LastIAmAlive >= n.Started.AddSeconds(-1), $"{n.Name}: {n.LastIAmAlive:O} < {n.Started:O}"));
        }

        // node-b stops gracefully; node-a sees it leave and keeps serving.
        await b.StopAsync(Ct);
        var after = await WaitForAsync(a, view => view.Single(n => n.Name == "node-b").Status == "Dead");
        Assert.Equal("Active", after.Single(n => n.Name == "node-a").Status);
        Assert.Equal(1u, (await a.ActivateAsync(FarmTests.Windows, Guid.NewGuid(), "pc-1", Ct)).Response!.CurrentCount);

        // Back again: a new silo of the same name joins; the old incarnation stays listed as Dead.
        await b.StartAsync(Ct);
        var rejoined = await WaitForAsync(a, view => view.Count(n => n.Name == "node-b" && n.Status == "Active") == 1);
        Assert.Equal(2, rejoined.Count(n => n.Name == "node-b"));
        Assert.Equal(2u, (await b.ActivateAsync(FarmTests.Windows, Guid.NewGuid(), "pc-2", Ct)).Response!.CurrentCount);
    }

    private static async Task<IReadOnlyList<ListedNode>> WaitForAsync(FarmNode reader, Func<IReadOnlyList<ListedNode>, bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var view = await reader.ListNodesAsync(Ct);
            if (condition(view))
            {
                return view;
            }

            Assert.True(clock.Elapsed < Patience, $"/api/nodes of {reader.Name} never showed the expected membership; last: " +
                string.Join("; ", view.Select(n => $"{n.Name} {n.Address} {n.Status}")));
            await Task.Delay(200, Ct);
        }
    }
}
