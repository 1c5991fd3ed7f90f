using System.Text.Json;
using System.Text.RegularExpressions;
using KmsFarm.TestKit;

namespace KmsFarm.Node.Tests;

/// <summary>The Grafana dashboards in dashboards/: provisionable JSON whose panels are laid out on Grafana's 24-column grid,
/// each query with a data source and a refId, and which use only metric names docs/metrics.md lists. (Every panel query
/// is evaluated against a real Prometheus in DashboardQueryTests.)</summary>
public sealed partial class DashboardJsonTests
{
    public static TheoryData<string> Dashboards => new(DashboardFiles().Select(Path.GetFileName)!);

    [Fact]
    public void The_farm_overview_and_the_node_detail_dashboards_exist()
    {
        Assert.Equal(
            ["kmsfarm-node.json", "kmsfarm-overview.json"], DashboardFiles().Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Dashboards))]
    public void A_dashboard_is_well_formed(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(RepositoryPaths.Combine("dashboards/" + file)));
        var dashboard = document.RootElement;
        Assert.Equal(Path.GetFileNameWithoutExtension(file), dashboard.GetProperty("uid").GetString());
        Assert.StartsWith("KmsFarm / ", dashboard.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.True(dashboard.GetProperty("schemaVersion").GetInt32() >= 36);
        bool hasId = dashboard.TryGetProperty("id", out var id) && id.ValueKind != JsonValueKind.Null;
        Assert.False(hasId, "provisioned dashboards carry no database id");

        // The data source is a variable, so the dashboards work with whatever the Prometheus data source is called.
        var variables = dashboard.GetProperty("templating").GetProperty("list").EnumerateArray().ToArray();
        var datasource = Assert.Single(variables, v => v.GetProperty("name").GetString() == "datasource");
        Assert.Equal("datasource", datasource.GetProperty("type").GetString());
        Assert.Equal("prometheus", datasource.GetProperty("query").GetString());

        var panels = dashboard.GetProperty("panels").EnumerateArray().ToArray();
        Assert.NotEmpty(panels);
        Assert.Equal(panels.Length, panels.Select(p => p.GetProperty("id").GetInt32()).Distinct().Count());
        var cells = new HashSet<(int X, int Y)>();
        foreach (var panel in panels)
        {
            string title = panel.GetProperty("title").GetString()!;
            Assert.False(string.IsNullOrWhiteSpace(title));
            var grid = panel.GetProperty("gridPos");
            int x = grid.GetProperty("x").GetInt32(), y = grid.GetProperty("y").GetInt32();
            int w = grid.GetProperty("w").GetInt32(), h = grid.GetProperty("h").GetInt32();
            Assert.True(x >= 0 && w > 0 && x + w <= 24 && y >= 0 && h > 0, $"{title}: gridPos outside the 24-column grid");
            for (int cx = x; cx < x + w; cx++)
            {
                for (int cy = y; cy < y + h; cy++)
                {
                    Assert.True(cells.Add((cx, cy)), $"{title} overlaps another panel at ({cx},{cy})");
                }
            }

            string type = panel.GetProperty("type").GetString()!;
            Assert.Contains(type, new[] { "row", "timeseries", "stat", "table" });
            if (type == "row")
            {
                continue;
            }

            Assert.Equal("${datasource}", panel.GetProperty("datasource").GetProperty("uid").GetString());
            var targets = panel.GetProperty("targets").EnumerateArray().ToArray();
            Assert.NotEmpty(targets);
            Assert.Equal(targets.Length, targets.Select(t => t.GetProperty("refId").GetString()).Distinct().Count());
            foreach (var target in targets)
            {
                Assert.Equal("${datasource}", target.GetProperty("datasource").GetProperty("uid").GetString());
                Assert.False(string.IsNullOrWhiteSpace(target.GetProperty("expr").GetString()), $"{title}: a target without a query");
            }
        }
    }

    [Fact]
    public void Dashboards_use_only_metric_names_listed_in_docs_metrics()
    {
        string docs = File.ReadAllText(RepositoryPaths.Combine("docs/metrics.md"));
        var listed = MetricName().Matches(docs).Select(m => m.Value).ToHashSet(StringComparer.Ordinal);
        foreach (var (title, expr) in DashboardFiles().SelectMany(PanelQueries))
        {
            foreach (Match name in MetricName().Matches(expr))
            {
                string family = HistogramSeries().Replace(name.Value, string.Empty);
                Assert.True(listed.Contains(family) || listed.Contains(name.Value), $"{title}: {name.Value} is not in docs/metrics.md");
            }
        }
    }

    [Fact]
    public void The_provisioning_files_load_the_dashboards_and_a_prometheus_data_source()
    {
        string datasources = File.ReadAllText(RepositoryPaths.Combine("dashboards/provisioning/datasources/prometheus.yml"));
        Assert.Contains("type: prometheus", datasources, StringComparison.Ordinal);
        Assert.Contains("apiVersion: 1", datasources, StringComparison.Ordinal);
        string providers = File.ReadAllText(RepositoryPaths.Combine("dashboards/provisioning/dashboards/kmsfarm.yml"));
        Assert.Contains("type: file", providers, StringComparison.Ordinal);
        Assert.Contains("path: /var/lib/grafana/dashboards/kmsfarm", providers, StringComparison.Ordinal);
    }

    /// <summary>Every dashboard JSON file.</summary>
    public static IEnumerable<string> DashboardFiles() =>
        Directory.EnumerateFiles(RepositoryPaths.Combine("dashboards"), "*.json").Order(StringComparer.Ordinal);

    /// <summary>(panel title, PromQL) of every query target in <paramref name="file"/>.</summary>
    public static IEnumerable<(string Title, string Expr)> PanelQueries(string file)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(file));
        var result = new List<(string, string)>();
        foreach (var panel in document.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (panel.TryGetProperty("targets", out var targets))
            {
                foreach (var target in targets.EnumerateArray())
                {
                    string title = Path.GetFileName(file) + ": " + panel.GetProperty("title").GetString();
                    result.Add((title, target.GetProperty("expr").GetString()!));
                }
            }
        }

        return result;
    }

    /// <summary>Our and the frameworks' metric names as they appear in PromQL and in docs/metrics.md.</summary>
    [GeneratedRegex(@"\b(?:kms|orleans|kestrel|process|dotnet)_[a-z0-9_]+\b")]
    private static partial Regex MetricName();

    [GeneratedRegex(@"_(?:bucket|sum|count)$")]
    private static partial Regex HistogramSeries();
}
