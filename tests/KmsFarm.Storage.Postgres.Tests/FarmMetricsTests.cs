using KmsFarm.TestKit;
using static KmsFarm.Storage.Postgres.Tests.FarmTraffic;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>/metrics of a running two-node farm (two node processes over one PostgreSQL): each node's scrape passes
/// <c>promtool check metrics</c> and holds the kms_* activation, count and connection families and Orleans' families; each
/// product group's farm-wide gauges come from the one node whose silo hosts the group's grain.</summary>
[Trait("Category", "Cluster")]
public sealed class FarmMetricsTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_scrape_of_each_node_of_a_two_node_farm_passes_promtool_and_holds_the_kms_and_orleans_families()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using var a = await NodeProcess.StartAsync("postgres:" + db, "node-a", [], Ct);
        await using var b = await NodeProcess.StartAsync("postgres:" + db, "node-b", [], Ct);

        // The Windows group is placed on node-a (its first client came there), Office 2013+ on node-b; both nodes serve both.
        Assert.Equal(0u, await ActivateAsync(a, WindowsPro, "pc-1", Ct));
        Assert.Equal(0u, await ActivateAsync(b, OfficeLtsc, "pc-2", Ct));
        Assert.Equal(0u, await ActivateAsync(b, WindowsPro, "pc-3", Ct));
        Assert.Equal(0u, await ActivateAsync(a, OfficeLtsc, "pc-4", Ct));

        var scrapes = new Dictionary<string, string>();
        foreach (var (name, node) in new[] { ("node-a", a), ("node-b", b) })
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://{node.HttpEndPoint}") };
            string text = await http.GetStringAsync(new Uri("/metrics", UriKind.Relative), Ct);
            scrapes[name] = text;
            var (exitCode, problems) = await Promtool.CheckMetricsAsync(text, Ct);
            Assert.True(exitCode == 0, $"promtool check metrics on {name}:\n{problems}");

            var families = PrometheusText.Families(text);
            int ours = families.Count(f => f.StartsWith("kms_", StringComparison.Ordinal));
            int orleans = families.Count(f => f.StartsWith("orleans_", StringComparison.Ordinal));
            TestContext.Current.TestOutputHelper?.WriteLine(
                $"{name}: {text.Length} bytes, {families.Count} families ({ours} kms_*, {orleans} orleans_*), " +
                "promtool check metrics: exit 0");
            foreach (string family in new[]
            {
                "kms_activation_requests_total", "kms_activation_duration_seconds",
                "kms_rpc_active_connections", "kms_rpc_connections_accepted_total", "kms_rpc_connection_duration_seconds",
                "kms_store_operation_duration_seconds", "kms_store_batch_size", "kms_product_group_apply_duration_seconds", "kms_node_info",
                "orleans_grains", "orleans_catalog_activations", "orleans_consistent_ring_size", "orleans_messaging_sent_local_total",
            })
            {
                Assert.Contains(family, families);
            }

            var samples = PrometheusText.Parse(text);
            var info = Assert.Single(samples, s => s.Name == "kms_node_info");
            Assert.Equal(name, info.Labels["kms_node_name"]);
            Assert.Equal("postgres", info.Labels["kms_store_kind"]);
            Assert.Equal(2, Assert.Single(samples, s => s.Name == "orleans_consistent_ring_size").Value);
            var activated = samples.Where(s => s.Name == "kms_activation_requests_total" && s.Labels["kms_result"] == "activated");
            Assert.Equal(2, activated.Sum(s => s.Value));
        }

        // Count, threshold and capacity of each group: reported by its host alone, with the farm's values.
        AssertGroup(scrapes["node-a"], "windows", clients: 2, threshold: 25, capacity: 50);
        AssertGroup(scrapes["node-b"], "office2013plus", clients: 2, threshold: 5, capacity: 10);
        Assert.DoesNotContain("kms_product_group=\"office2013plus\"", GroupLines(scrapes["node-a"]), StringComparison.Ordinal);
        Assert.DoesNotContain("kms_product_group=\"windows\"", GroupLines(scrapes["node-b"]), StringComparison.Ordinal);
    }

    private static void AssertGroup(string scrape, string group, int clients, int threshold, int capacity)
    {
        var samples = PrometheusText.Parse(scrape).Where(s => s.Labels.GetValueOrDefault("kms_product_group") == group).ToArray();
        Assert.Equal(clients, Assert.Single(samples, s => s.Name == "kms_product_group_clients").Value);
        Assert.Equal(threshold, Assert.Single(samples, s => s.Name == "kms_product_group_threshold").Value);
        Assert.Equal(capacity, Assert.Single(samples, s => s.Name == "kms_product_group_capacity").Value);
    }

    private static string GroupLines(string scrape) =>
        string.Join('\n', scrape.Split('\n').Where(l => l.StartsWith("kms_product_group_clients", StringComparison.Ordinal)));
}
