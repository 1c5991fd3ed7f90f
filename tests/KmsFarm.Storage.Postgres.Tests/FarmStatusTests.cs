using System.Text.Json;
using KmsFarm.Client;
using KmsFarm.Grains;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>/api/status on a two-node farm over PostgreSQL: every node gives the farm-wide view (each group's figures from
/// its grain, wherever it is hosted; the totals from the shared store), and asking never places a group nobody used.</summary>
[Trait("Category", "Cluster")]
public sealed class FarmStatusTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Both_nodes_report_the_farm_and_a_status_call_does_not_place_an_unused_group()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using var a = await FarmNode.StartAsync(db, "node-a", Ct);
        await using var b = await FarmNode.StartAsync(db, "node-b", Ct);
        for (int i = 0; i < 3; i++)
        {
            Assert.True((await a.ActivateAsync(FarmTests.Windows, Guid.NewGuid(), $"win-{i}", Ct)).Succeeded);
        }

        Assert.True((await b.ActivateAsync(FarmTests.Office, Guid.NewGuid(), "office-0", Ct)).Succeeded);

        foreach (var node in new[] { a, b })
        {
            using var json = JsonDocument.Parse(await node.Http.GetStringAsync("/api/status", Ct));
            var root = json.RootElement;
            Assert.Equal(node.Name, root.GetProperty("node").GetString());
            Assert.Equal("postgres", root.GetProperty("farm").GetProperty("store").GetString());
            var groups = root.GetProperty("groups").EnumerateArray().ToDictionary(g => g.GetProperty("group").GetString()!);
            Assert.Equal(("active", "node-a", 3, 50), Figures(groups["Windows"]));
            Assert.Equal(("active", "node-b", 1, 10), Figures(groups["Office2013Plus"]));
            Assert.Equal(("not activated", (string?)null, 0, 0), Figures(groups["Office2010"]));
            Assert.Equal(4, root.GetProperty("totals").GetProperty("activated").GetInt64());
            Assert.Equal(["node-a", "node-b"], root.GetProperty("silos").EnumerateArray()
                .Where(s => s.GetProperty("status").GetString() == "Active").Select(s => s.GetProperty("name").GetString()));
        }

        // Neither status call activated Office 2010; its first client's node hosts it.
        Assert.DoesNotContain(ProductGroup.Office2010, a.Services.GetRequiredService<LocalProductGroups>().Current);
        Assert.DoesNotContain(ProductGroup.Office2010, b.Services.GetRequiredService<LocalProductGroups>().Current);
        var office2010 = ClientCatalog.Default.Products.First(p => p.Group == ProductGroup.Office2010);
        Assert.True((await b.ActivateAsync(office2010, Guid.NewGuid(), "office2010-0", Ct)).Succeeded);
        using var after = JsonDocument.Parse(await a.Http.GetStringAsync("/api/status", Ct));
        var group = after.RootElement.GetProperty("groups").EnumerateArray().Single(g => g.GetProperty("group").GetString() == "Office2010");
        Assert.Equal(("active", "node-b", 1, 10), Figures(group));
    }

    private static (string State, string? Host, int Count, int Capacity) Figures(JsonElement group) => (
        group.GetProperty("state").GetString()!,
        group.GetProperty("host").GetString(),
        group.GetProperty("currentCount").GetInt32(),
        group.GetProperty("capacity").GetInt32());
}
