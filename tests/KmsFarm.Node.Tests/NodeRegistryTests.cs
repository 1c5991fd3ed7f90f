using System.Diagnostics;
using System.Net;
using System.Text.Json;
using KmsFarm.Node.Runtime;
using KmsFarm.TestKit;
using Microsoft.Data.Sqlite;

namespace KmsFarm.Node.Tests;

/// <summary>The node records itself in its store's node registry, heart-beats, and lists the registry on /api/nodes.</summary>
public sealed class NodeRegistryTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Api_nodes_lists_the_node_with_its_bound_endpoints_version_and_times()
    {
        var before = DateTimeOffset.UtcNow;
        await using var node = await InProcessNode.StartAsync(cancellationToken: Ct);

        var response = await node.Http.GetAsync("/api/nodes", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var entry = Assert.Single(json.RootElement.EnumerateArray());
        Assert.Equal(
            ["name", "endpoints", "version", "started", "lastHeartbeat", "gone"],
            entry.EnumerateObject().Select(p => p.Name));
        Assert.Equal("test-node", entry.GetProperty("name").GetString());
        Assert.Equal(
            [$"tcp://{node.KmsEndPoint}", $"http://{node.HttpEndPoint}"],
            entry.GetProperty("endpoints").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(NodeBuild.Version, entry.GetProperty("version").GetString());
        Assert.False(string.IsNullOrWhiteSpace(NodeBuild.Version));
        var started = entry.GetProperty("started").GetDateTimeOffset();
        var lastHeartbeat = entry.GetProperty("lastHeartbeat").GetDateTimeOffset();
        Assert.InRange(started, before, DateTimeOffset.UtcNow);
        Assert.InRange(lastHeartbeat, started, DateTimeOffset.UtcNow);
        Assert.False(entry.GetProperty("gone").GetBoolean());
    }

    [Fact]
    public async Task Heartbeats_move_the_last_heartbeat_and_a_removed_entry_is_registered_again()
    {
        await using var node = await InProcessNode.StartAsync(["--heartbeat-interval", "00:00:00.200"], cancellationToken: Ct);
        var first = (await ListAsync(node)).Single();

        await WaitForAsync(async () => (await ListAsync(node)).Single().LastHeartbeat > first.LastHeartbeat);

        // Someone deletes the row (or the database was swapped): the next heartbeat finds nothing and registers again.
        using (var raw = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = node.DatabasePath, Pooling = false }.ToString()))
        {
            raw.Open();
            using var delete = raw.CreateCommand();
            delete.CommandText = "DELETE FROM node";
            delete.ExecuteNonQuery();
        }

        await WaitForAsync(async () => (await ListAsync(node)).Count == 1);
        var again = (await ListAsync(node)).Single();
        Assert.Equal((first.Name, first.Started, false), (again.Name, again.Started, again.Gone));
    }

    [Fact]
    public async Task A_restarted_node_replaces_its_entry_with_its_new_endpoints()
    {
        await using var node = await InProcessNode.StartAsync(cancellationToken: Ct);
        var first = (await ListAsync(node)).Single();
        await node.RestartAsync(Ct);

        var second = (await ListAsync(node)).Single();
        Assert.Equal([$"tcp://{node.KmsEndPoint}", $"http://{node.HttpEndPoint}"], second.Endpoints);
        Assert.True(second.Started >= first.Started);
    }

    internal static async Task<List<Entry>> ListAsync(InProcessNode node)
    {
        using var json = JsonDocument.Parse(await node.Http.GetStringAsync("/api/nodes", Ct));
        return json.RootElement.EnumerateArray().Select(e => new Entry(
            e.GetProperty("name").GetString()!,
            e.GetProperty("endpoints").EnumerateArray().Select(x => x.GetString()!).ToArray(),
            e.GetProperty("started").GetDateTimeOffset(),
            e.GetProperty("lastHeartbeat").GetDateTimeOffset(),
            e.GetProperty("gone").GetBoolean())).ToList();
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Patience, "the node registry did not change");
            await Task.Delay(50, Ct);
        }
    }

    internal sealed record Entry(string Name, string[] Endpoints, DateTimeOffset Started, DateTimeOffset LastHeartbeat, bool Gone);
}
