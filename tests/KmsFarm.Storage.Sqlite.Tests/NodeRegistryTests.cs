using KmsFarm.Activation;
using KmsFarm.TestKit;
using Microsoft.Extensions.Logging.Abstractions;

namespace KmsFarm.Storage.Sqlite.Tests;

/// <summary>The embedded store's node registry: same contract as the farm store's (register, heartbeat, list, gone).</summary>
public sealed class NodeRegistryTests : StoreTestBase
{
    private static readonly DateTimeOffset Started = new(2026, 3, 1, 11, 59, 30, TimeSpan.Zero);

    private readonly ManualTimeProvider _clock = new(T0);

    [Fact]
    public async Task A_single_node_lists_itself_alive_with_what_it_registered()
    {
        var store = await OpenNodeStoreAsync();
        await store.RegisterAsync(new NodeRegistration("node-a", ["tcp://127.0.0.1:1688", "http://127.0.0.1:8688"], "1.2.3+abc", Started), Ct);

        var node = Assert.Single(await store.ListAsync(Ct));
        Assert.Equal("node-a", node.Name);
        Assert.Equal(["tcp://127.0.0.1:1688", "http://127.0.0.1:8688"], node.Endpoints);
        Assert.Equal("1.2.3+abc", node.Version);
        Assert.Equal(Started, node.Started);
        Assert.Equal(T0, node.LastHeartbeat);
        Assert.False(node.IsGone);
    }

    [Fact]
    public async Task Heartbeats_keep_a_node_alive_and_a_silent_one_is_gone_after_the_threshold()
    {
        var store = await OpenNodeStoreAsync(TimeSpan.FromSeconds(30));
        await store.RegisterAsync(new NodeRegistration("node-a", ["tcp://127.0.0.1:1688"], "1", Started), Ct);
        await store.RegisterAsync(new NodeRegistration("node-b", ["tcp://127.0.0.1:1689"], "1", Started), Ct);

        _clock.Advance(TimeSpan.FromSeconds(20));
        Assert.True(await store.HeartbeatAsync("node-a", Ct));
        _clock.Advance(TimeSpan.FromSeconds(20));

        var nodes = await store.ListAsync(Ct);
        Assert.Equal(["node-a", "node-b"], nodes.Select(n => n.Name));
        Assert.Equal((T0.AddSeconds(20), false), (nodes[0].LastHeartbeat, nodes[0].IsGone));
        Assert.Equal((T0, true), (nodes[1].LastHeartbeat, nodes[1].IsGone));

        // Exactly at the threshold a node still counts as alive; one tick later it is gone.
        _clock.SetUtcNow(T0.AddSeconds(50));
        Assert.False((await store.ListAsync(Ct))[0].IsGone);
        _clock.Advance(TimeSpan.FromTicks(1));
        Assert.True((await store.ListAsync(Ct))[0].IsGone);
    }

    [Fact]
    public async Task Heartbeat_of_an_unregistered_node_is_false_and_registering_again_replaces_the_entry()
    {
        var store = await OpenNodeStoreAsync();
        Assert.False(await store.HeartbeatAsync("node-z", Ct));
        Assert.Empty(await store.ListAsync(Ct));

        await store.RegisterAsync(new NodeRegistration("node-a", ["tcp://127.0.0.1:1688"], "1.0", Started), Ct);
        _clock.Advance(TimeSpan.FromMinutes(5));
        Assert.True((await store.ListAsync(Ct)).Single().IsGone);

        await store.RegisterAsync(new NodeRegistration("node-a", ["tcp://127.0.0.1:2688"], "1.1", Started.AddMinutes(5)), Ct);
        var node = Assert.Single(await store.ListAsync(Ct));
        Assert.Equal(["tcp://127.0.0.1:2688"], node.Endpoints);
        Assert.Equal(("1.1", Started.AddMinutes(5), T0.AddMinutes(5), false), (node.Version, node.Started, node.LastHeartbeat, node.IsGone));
    }

    [Fact]
    public async Task The_registry_survives_a_restart_of_the_store()
    {
        var store = await OpenNodeStoreAsync();
        await store.RegisterAsync(new NodeRegistration("node-a", [], "1", Started), Ct);
        await store.DisposeAsync();

        var reopened = await OpenNodeStoreAsync();
        Assert.Equal("node-a", Assert.Single(await reopened.ListAsync(Ct)).Name);
        Assert.True(await reopened.HeartbeatAsync("node-a", Ct));
    }

    [Fact]
    public async Task A_node_row_with_unreadable_endpoints_lists_without_them()
    {
        var store = await OpenNodeStoreAsync();
        await store.RegisterAsync(new NodeRegistration("node-a", ["tcp://127.0.0.1:1688"], "1", Started), Ct);
        using (var raw = OpenRaw())
        {
            Execute(raw, "UPDATE node SET endpoints = 'not json'");
        }

        Assert.Empty(Assert.Single(await store.ListAsync(Ct)).Endpoints);
    }

    [Fact]
    public void A_non_positive_gone_threshold_names_the_setting()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(
            () => new SqliteActivationStore(new SqliteStoreOptions { Path = DatabasePath, NodeGoneAfter = TimeSpan.Zero }, NullLogger.Instance));
        Assert.Contains("Store:Sqlite:NodeGoneAfter", error.Message, StringComparison.Ordinal);
    }

    private async Task<SqliteActivationStore> OpenNodeStoreAsync(TimeSpan? goneAfter = null)
    {
        var options = new SqliteStoreOptions { Path = DatabasePath, NodeGoneAfter = goneAfter ?? SqliteStoreOptions.DefaultNodeGoneAfter };
        var store = Track(new SqliteActivationStore(options, NullLogger.Instance, _clock));
        await store.InitializeAsync(Ct);
        return store;
    }
}
