using System.Diagnostics;
using KmsFarm.TestKit;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>Farm membership: every node records itself in the shared registry and any node lists them all; a node that
/// stops heart-beating is listed as gone by the others. No node needs another to serve.</summary>
[Trait("Category", "Cluster")]
public sealed class FarmNodeRegistryTests(PostgresFixture postgres)
{
    /// <summary>A short heartbeat and threshold so "gone" shows within seconds (still 15 heartbeats of slack).</summary>
    private static readonly string[] FastHeartbeat = ["--heartbeat-interval", "00:00:00.200", "--node-gone-after", "3"];

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_nodes_appear_in_api_nodes_of_either_and_a_stopped_one_shows_as_gone()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using var a = await FarmNode.StartAsync(db, "node-a", Ct, extraArgs: FastHeartbeat);
        await using var b = await FarmNode.StartAsync(db, "node-b", Ct, extraArgs: FastHeartbeat);

        foreach (var reader in new[] { a, b })
        {
            var listed = await reader.ListNodesAsync(Ct);
            Assert.Equal(["node-a", "node-b"], listed.Select(n => n.Name));
            foreach (var (entry, node) in listed.Zip(new[] { a, b }))
            {
                Assert.Equal([$"tcp://{node.KmsEndPoint}", $"http://{node.HttpEndPoint}"], entry.Endpoints);
                Assert.False(string.IsNullOrWhiteSpace(entry.Version));
                Assert.True(entry.LastHeartbeat >= entry.Started, $"{entry.Name}: {entry.LastHeartbeat:O} < {entry.Started:O}");
            }
        }

        // node-b stops without a word to anyone: it just stops heart-beating. node-a keeps serving and sees it go.
        var lastSeenAlive = (await a.ListNodesAsync(Ct)).Single(n => n.Name == "node-b").LastHeartbeat;
        await b.StopAsync(Ct);
        var clock = Stopwatch.StartNew();
        IReadOnlyList<ListedNode> view;
        while (true)
        {
            view = await a.ListNodesAsync(Ct);
            if (view.Single(n => n.Name == "node-b").Gone && !view.Single(n => n.Name == "node-a").Gone)
            {
                break;
            }

            Assert.True(clock.Elapsed < Patience, "node-b was never listed as gone while node-a was alive");
            await Task.Delay(100, Ct);
        }

        Assert.True(view.Single(n => n.Name == "node-b").LastHeartbeat >= lastSeenAlive);
        Assert.Equal(1u, (await a.ActivateAsync(FarmTests.Windows, Guid.NewGuid(), "pc-1", Ct)).Response!.CurrentCount);

        // Back again: registered anew, alive in every view.
        await b.StartAsync(Ct);
        foreach (var reader in new[] { a, b })
        {
            var entry = (await reader.ListNodesAsync(Ct)).Single(n => n.Name == "node-b");
            Assert.False(entry.Gone);
            Assert.Equal([$"tcp://{b.KmsEndPoint}", $"http://{b.HttpEndPoint}"], entry.Endpoints);
        }
    }
}
