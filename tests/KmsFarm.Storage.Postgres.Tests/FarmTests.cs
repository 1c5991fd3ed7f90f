using KmsFarm.Client;
using KmsFarm.TestKit;
using static KmsFarm.Storage.Postgres.Tests.Attempts;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>Whole nodes over loopback, sharing one PostgreSQL database: the farm behaves as one KMS host.</summary>
[Trait("Category", "Cluster")]
public sealed class FarmTests(PostgresFixture postgres)
{
    /// <summary>Windows 10/11 Pro (N_Policy 25) and Office LTSC 2021 (N_Policy 5): counted in two product groups.</summary>
    internal static readonly ClientProduct Windows = Product("58e2134f-8e11-4d17-9cb2-91069c151148", 25);

    internal static readonly ClientProduct Office = ClientCatalog.Default.Products.First(p =>
        p.Group == Protocol.Catalog.ProductGroup.Office2013Plus && p.RequiredClientCount == 5 && !p.Name.Contains("Preview", StringComparison.OrdinalIgnoreCase));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Many_clients_spread_over_three_nodes_get_the_counts_of_one_serialized_order()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var nodes = await FarmNode.StartManyAsync(db, 3, Ct);
        try
        {
            var clients = Enumerable.Range(0, 120)
                .Select(i => (Node: nodes[i % 3], Product: i % 4 == 3 ? Office : Windows, Cmid: Guid.NewGuid(), Name: $"pc-{i:000}"))
                .ToArray();
            var results = await Task.WhenAll(clients.Select(async c => (c, Result: await c.Node.ActivateAsync(c.Product, c.Cmid, c.Name, Ct))));
            Assert.All(results, r => Assert.True(r.Result.Succeeded, $"0x{r.Result.HResult:X8}"));

            // 90 Windows machines: 1..50 once each, then 50; 30 Office machines: 1..10, then 10.
            var windows = results.Where(r => r.c.Product == Windows).Select(r => (int)r.Result.Response!.CurrentCount).Order();
            var office = results.Where(r => r.c.Product == Office).Select(r => (int)r.Result.Response!.CurrentCount).Order();
            Assert.Equal([.. Enumerable.Range(1, 50), .. Enumerable.Repeat(50, 40)], windows);
            Assert.Equal([.. Enumerable.Range(1, 10), .. Enumerable.Repeat(10, 20)], office);

            // One ePID per CSVLK, whichever node answered; every node holds the same identity.
            Assert.Single(results.Where(r => r.c.Product == Windows).Select(r => r.Result.Response!.Epid).Distinct());
            Assert.Single(results.Where(r => r.c.Product == Office).Select(r => r.Result.Response!.Epid).Distinct());
            Assert.All(nodes, n => Assert.Equal(nodes[0].Identity.Csvlks, n.Identity.Csvlks));

            // What each machine was told is what one host replaying the farm's commit order says.
            var history = (await HistoryInOrderAsync(db)).Where(h => results.Any(r => r.c.Product == Windows && r.c.Name == h.Machine)).ToList();
            Assert.Equal(90, history.Count);
            Assert.Equal(Replay(history, T0), history.Select(h => h.Count!.Value));
            var told = results.ToDictionary(r => r.c.Name, r => (int)r.Result.Response!.CurrentCount);
            Assert.All(history, h => Assert.Equal(told[h.Machine], h.Count));
        }
        finally
        {
            await DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task Thirty_clients_sent_alternately_to_two_nodes_count_1_to_30_in_order()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var nodes = await FarmNode.StartManyAsync(db, 2, Ct);
        try
        {
            var cmids = Cmids(30);
            var counts = new List<uint>();
            var epids = new HashSet<string>(StringComparer.Ordinal);
            for (int i = 0; i < cmids.Length; i++)
            {
                var result = await nodes[i % 2].ActivateAsync(Windows, cmids[i], $"pc-{i}", Ct);
                counts.Add(result.Response!.CurrentCount);
                epids.Add(result.Response.Epid);
            }

            Assert.Equal(Enumerable.Range(1, 30).Select(i => (uint)i), counts);

            // Both nodes now report 30 (a renewal adds nothing) with the same ePID.
            foreach (var (node, cmid) in new[] { (nodes[0], cmids[1]), (nodes[1], cmids[0]) })
            {
                var renewal = (await node.ActivateAsync(Windows, cmid, "renewal", Ct)).Response!;
                Assert.Equal(30u, renewal.CurrentCount);
                epids.Add(renewal.Epid);
            }

            Assert.Single(epids);
        }
        finally
        {
            await DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task A_restarted_node_keeps_serving_the_same_counts_and_identity()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var nodes = await FarmNode.StartManyAsync(db, 2, Ct);
        try
        {
            var cmids = Cmids(5);
            for (int i = 0; i < 3; i++)
            {
                Assert.Equal((uint)(i + 1), (await nodes[0].ActivateAsync(Windows, cmids[i], $"pc-{i}", Ct)).Response!.CurrentCount);
            }

            var epid = (await nodes[1].ActivateAsync(Windows, cmids[0], "pc-0", Ct)).Response!.Epid;
            var identity = nodes[0].Identity;
            await nodes[0].StopAsync(Ct);
            Assert.Equal(4u, (await nodes[1].ActivateAsync(Windows, cmids[3], "pc-3", Ct)).Response!.CurrentCount);
            await nodes[0].StartAsync(Ct);

            var renewal = (await nodes[0].ActivateAsync(Windows, cmids[1], "pc-1", Ct)).Response!;
            Assert.Equal((4u, epid), (renewal.CurrentCount, renewal.Epid));
            Assert.Equal(5u, (await nodes[0].ActivateAsync(Windows, cmids[4], "pc-4", Ct)).Response!.CurrentCount);
            Assert.Equal(identity.Csvlks, nodes[0].Identity.Csvlks);
        }
        finally
        {
            await DisposeAllAsync(nodes);
        }
    }

    [Fact]
    public async Task A_node_given_the_database_as_a_URL_joins_the_same_farm()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var csb = new Npgsql.NpgsqlConnectionStringBuilder(db);
        await using var a = await FarmNode.StartAsync(db, "node-a", Ct);
        await using var b = await FarmNode.StartAsync(db, "node-b", Ct, store: $"postgres://{csb.Username}@{csb.Host}:{csb.Port}/{csb.Database}");
        Assert.Equal(1u, (await a.ActivateAsync(Windows, Guid.NewGuid(), "pc-1", Ct)).Response!.CurrentCount);
        Assert.Equal(2u, (await b.ActivateAsync(Windows, Guid.NewGuid(), "pc-2", Ct)).Response!.CurrentCount);
        Assert.Equal(a.Identity.Csvlks, b.Identity.Csvlks);
    }

    [Fact]
    public async Task A_malformed_postgres_store_stops_start_up_naming_the_setting()
    {
        var ex = await Assert.ThrowsAsync<KmsFarm.Node.Configuration.NodeConfigurationException>(
            () => FarmNode.StartAsync("", "node-x", Ct, store: "postgres:Host=db;NoSuchKeyword=1"));
        Assert.Contains("KmsFarm:Store:Location (--store)", ex.Message, StringComparison.Ordinal);
    }

    internal static async Task DisposeAllAsync(IEnumerable<FarmNode> nodes)
    {
        foreach (var node in nodes)
        {
            await node.DisposeAsync();
        }
    }

    private static ClientProduct Product(string kmsCountedId, uint nPolicy)
    {
        var product = ClientCatalog.Default.FindByKmsId(new Guid(kmsCountedId));
        Assert.Equal(nPolicy, product.RequiredClientCount);
        return product;
    }
}
