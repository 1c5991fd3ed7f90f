using System.Net;
using System.Text.Json;
using KmsFarm.TestKit;

namespace KmsFarm.Node.Tests;

/// <summary>A node is an Orleans silo; on the embedded store it is a cluster of one, listed on /api/nodes.</summary>
public sealed class NodeMembershipTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Api_nodes_lists_the_nodes_silo_as_active_with_its_address_and_times()
    {
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);
        await using var node = await InProcessNode.StartAsync(cancellationToken: Ct);

        var response = await node.Http.GetAsync("/api/nodes", Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var entry = Assert.Single(json.RootElement.EnumerateArray());
        Assert.Equal(
            ["name", "address", "hostName", "status", "started", "lastIAmAlive"],
            entry.EnumerateObject().Select(p => p.Name));
        Assert.Equal("test-node", entry.GetProperty("name").GetString());
        Assert.Equal("Active", entry.GetProperty("status").GetString());
        Assert.Equal($"127.0.0.1:{node.SiloPort}", entry.GetProperty("address").GetString());
        Assert.Equal(Environment.MachineName, entry.GetProperty("hostName").GetString());
        var started = entry.GetProperty("started").GetDateTimeOffset();
        Assert.InRange(started, before, DateTimeOffset.UtcNow);
        Assert.True(entry.GetProperty("lastIAmAlive").GetDateTimeOffset() >= started.AddSeconds(-1));
    }

    [Fact]
    public async Task A_restarted_node_is_a_new_active_silo()
    {
        await using var node = await InProcessNode.StartAsync(cancellationToken: Ct);
        var first = (await ListAsync(node)).Single();
        await node.RestartAsync(Ct);

        var second = (await ListAsync(node)).Single();
        Assert.Equal("Active", second.Status);
        Assert.True(second.Started >= first.Started);
    }

    private static async Task<List<Entry>> ListAsync(InProcessNode node)
    {
        using var json = JsonDocument.Parse(await node.Http.GetStringAsync("/api/nodes", Ct));
        return json.RootElement.EnumerateArray().Select(e => new Entry(
            e.GetProperty("name").GetString()!,
            e.GetProperty("status").GetString()!,
            e.GetProperty("started").GetDateTimeOffset())).ToList();
    }

    private sealed record Entry(string Name, string Status, DateTimeOffset Started);
}
