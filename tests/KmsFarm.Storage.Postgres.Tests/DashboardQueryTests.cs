using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KmsFarm.TestKit;
using static KmsFarm.Storage.Postgres.Tests.FarmTraffic;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>Every panel of the Grafana dashboards (dashboards/*.json) shows data for a real farm: two node processes over
/// PostgreSQL, driven by the load generator and a few requests that go wrong on purpose, scraped every second by a real
/// Prometheus (Debian's package, on loopback) that also loads deploy/prometheus' rules. Each panel query, with Grafana's
/// variables filled in, is evaluated through Prometheus' HTTP API and must return at least one finite sample (the node
/// dashboard's for each node).</summary>
[Trait("Category", "Cluster")]
public sealed class DashboardQueryTests(PostgresFixture postgres)
{
    /// <summary>What Grafana's $__rate_interval becomes: four 1 s scrapes or more, and the whole test fits in it.</summary>
    private const string RateInterval = "1m";

    private const int MaxConnections = 12;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_panel_query_returns_data_from_a_real_prometheus_scraping_a_loaded_two_node_farm()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        // The load generator below is one address standing for 300 machines: no per-address request rate, or its unpaced
        // requests would be answered "server too busy" on a fast machine.
        string[] args = ["--max-connections", MaxConnections.ToString(CultureInfo.InvariantCulture), "--request-rate", "0"];
        await using var a = await NodeProcess.StartAsync("postgres:" + db, "node-a", args, Ct);
        await using var b = await NodeProcess.StartAsync("postgres:" + db, "node-b", args, Ct);
        string[] rules = [.. new[] { "recording.yml", "alerts.yml" }.Select(f => RepositoryPaths.Combine("deploy/prometheus/rules/" + f))];
        await using var prometheus = await PrometheusServer.StartAsync(
            [a.HttpEndPoint.ToString(), b.HttpEndPoint.ToString()], TimeSpan.FromSeconds(1), rules, Ct);
        await prometheus.WaitForTargetsUpAsync(2, TimeSpan.FromSeconds(30), Ct);

        // Each node hosts a product group (the first caller's silo gets it), so each node's "hosted groups" panels have data.
        Assert.Equal(0u, await ActivateAsync(a, WindowsPro, "first-windows", Ct));
        Assert.Equal(0u, await ActivateAsync(b, OfficeLtsc, "first-office", Ct));
        Assert.Equal(0u, await ActivateAsync(b, Office2010, "first-office2010", Ct));

        // Before and after the load, so that the counters of what goes wrong exist at one scrape and have grown at a later one
        // (a series born at 1 has no rate).
        await GoWrongAsync([a, b]);
        var (exitCode, report) = await RunLoadAsync([a, b], clients: 300, TimeSpan.FromSeconds(8), concurrency: 4, Ct);
        TestContext.Current.TestOutputHelper?.WriteLine("kmsfarm-client load --json:\n" + report);
        using (var json = JsonDocument.Parse(report))
        {
            Assert.True(json.RootElement.GetProperty("activations").GetInt64() > 100, report);
        }

        await GoWrongAsync([a, b]);

        Assert.True(exitCode == 0, $"the load generator exited with {exitCode}:\n{report}");
        await Task.Delay(TimeSpan.FromSeconds(3), Ct); // a few more scrapes after the last event

        var instances = (await prometheus.QueryAsync("kms_node_info", Ct)).GetProperty("result").EnumerateArray()
            .Select(s => s.GetProperty("metric").GetProperty("instance").GetString()!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(new[] { a.HttpEndPoint.ToString(), b.HttpEndPoint.ToString() }.Order(StringComparer.Ordinal), instances);

        var empty = new List<string>();
        int evaluated = 0;
        foreach (string file in Directory.EnumerateFiles(RepositoryPaths.Combine("dashboards"), "*.json").Order(StringComparer.Ordinal))
        {
            var queries = PanelQueries(file);
            Assert.NotEmpty(queries);
            bool perNode = queries.Any(q => q.Expr.Contains("$instance", StringComparison.Ordinal));
            foreach (string instance in perNode ? instances : [""])
            {
                foreach (var (title, expr) in queries)
                {
                    string promql = Substitute(expr, instance);
                    var data = await prometheus.QueryAsync(promql, Ct);
                    evaluated++;
                    if (!HasFiniteSample(data))
                    {
                        empty.Add($"{Path.GetFileName(file)} / {title}{(instance.Length > 0 ? " @" + instance : "")}: {promql}");
                    }
                }
            }
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{evaluated} panel queries evaluated, {empty.Count} without data");
        Assert.True(empty.Count == 0, "panel queries without data:\n" + string.Join('\n', empty) + "\nprometheus log:\n" + prometheus.Log);
        await AssertRulesEvaluateAsync(prometheus);
    }

    /// <summary>What the error and refusal panels show: per node, a request for an unknown application (answered with an
    /// HRESULT and a history row), a truncated PDU, and more connections than the node admits.</summary>
    private static async Task GoWrongAsync(IEnumerable<NodeProcess> nodes)
    {
        foreach (var node in nodes)
        {
            Assert.NotEqual(0u, await ActivateAsync(node, WindowsPro, "stranger", Ct, applicationId: Guid.NewGuid()));
            await SendTruncatedPduAsync(node, Ct);
            await OpenConnectionsAsync(node, MaxConnections + 3, Ct);
        }
    }

    /// <summary>Grafana's variables as the dashboards use them: the rate interval, and the node of the node dashboard (a
    /// single-value variable, which Grafana puts in as it is).</summary>
    private static string Substitute(string expr, string instance)
    {
        string promql = expr.Replace("$__rate_interval", RateInterval, StringComparison.Ordinal)
            .Replace("$instance", instance, StringComparison.Ordinal);
        Assert.DoesNotContain("$", promql, StringComparison.Ordinal);
        return promql;
    }

    /// <summary>An instant vector or scalar with at least one sample that is a number (histogram_quantile over no
    /// observations gives NaN).</summary>
    private static bool HasFiniteSample(JsonElement data)
    {
        var result = data.GetProperty("result");
        return data.GetProperty("resultType").GetString() switch
        {
            "vector" => result.EnumerateArray().Any(s => IsFinite(s.GetProperty("value")[1].GetString()!)),
            "scalar" => IsFinite(result[1].GetString()!),
            _ => false,
        };

        static bool IsFinite(string value) => double.IsFinite(PrometheusText.ParseValue(value));
    }

    /// <summary>deploy/prometheus' recording and alerting rules evaluate without error on the farm's real series.</summary>
    private static async Task AssertRulesEvaluateAsync(PrometheusServer prometheus)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var rules = (await prometheus.RulesAsync(Ct)).EnumerateArray().SelectMany(g => g.GetProperty("rules").EnumerateArray())
                .Select(r => (Name: r.GetProperty("name").GetString()!, Health: r.GetProperty("health").GetString()!,
                    Error: r.TryGetProperty("lastError", out var e) ? e.GetString() : null))
                .ToArray();
            Assert.Equal(14, rules.Length);
            Assert.All(rules, r => Assert.True(r.Health != "err", $"{r.Name}: {r.Error}"));
            if (rules.All(r => r.Health == "ok"))
            {
                return;
            }

            Assert.True(
                clock.Elapsed < TimeSpan.FromSeconds(30),
                "rules never evaluated: " + string.Join(", ", rules.Where(r => r.Health != "ok").Select(r => r.Name)));
            await Task.Delay(250, Ct);
        }
    }

    /// <summary>(panel title, PromQL) of every query target of a dashboard.</summary>
    private static List<(string Title, string Expr)> PanelQueries(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(file));
        var queries = new List<(string, string)>();
        foreach (var panel in document.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (panel.TryGetProperty("targets", out var targets))
            {
                foreach (var target in targets.EnumerateArray())
                {
                    queries.Add((panel.GetProperty("title").GetString()!, target.GetProperty("expr").GetString()!));
                }
            }
        }

        return queries;
    }
}
