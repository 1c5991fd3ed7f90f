using System.Text.RegularExpressions;
using KmsFarm.TestKit;

namespace KmsFarm.Node.Tests;

/// <summary>deploy/prometheus: the scrape config and rules pass promtool's checks, and the alerts' unit tests pass, each
/// alert shown both firing and not firing.</summary>
public sealed partial class PrometheusConfigTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Deploy(string relative) => RepositoryPaths.Combine("deploy/prometheus/" + relative);

    [Fact]
    public async Task The_scrape_config_and_its_rule_files_pass_promtool_check_config()
    {
        var (exitCode, output) = await Promtool.RunAsync(["check", "config", Deploy("prometheus.yml")], Ct);
        Assert.True(exitCode == 0, output);
        Assert.Contains("2 rule files found", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_rules_pass_promtool_check_rules()
    {
        var (exitCode, output) = await Promtool.RunAsync(["check", "rules", Deploy("rules/recording.yml"), Deploy("rules/alerts.yml")], Ct);
        Assert.True(exitCode == 0, output);
    }

    [Fact]
    public async Task The_alert_unit_tests_pass_promtool_test_rules()
    {
        var (exitCode, output) = await Promtool.RunAsync(["test", "rules", Deploy("tests/alerts.test.yml")], Ct);
        Assert.True(exitCode == 0, output);
        Assert.Contains("SUCCESS", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_alert_is_tested_both_firing_and_not_firing()
    {
        string[] alerts = AlertName().Matches(File.ReadAllText(Deploy("rules/alerts.yml"))).Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal(
            ["KmsNodeDown", "KmsActivationErrorRatioHigh", "KmsProductGroupBelowThreshold", "KmsStoreCommitSlow", "KmsConnectionsRefused"],
            alerts);

        // Each alert_rule_test entry: "alertname: X" followed by "exp_alerts: []" (quiet) or "exp_alerts:" and a list (firing).
        var cases = AlertCase().Matches(File.ReadAllText(Deploy("tests/alerts.test.yml")))
            .Select(m => (Alert: m.Groups[1].Value, Fires: m.Groups[2].Value.Length == 0)).ToArray();
        foreach (string alert in alerts)
        {
            Assert.Contains((alert, true), cases);
            Assert.Contains((alert, false), cases);
        }
    }

    [GeneratedRegex(@"^\s*- alert: (\w+)\s*$", RegexOptions.Multiline)]
    private static partial Regex AlertName();

    [GeneratedRegex(@"alertname: (\w+)\s*\n\s*exp_alerts:( \[\])?\s*$", RegexOptions.Multiline)]
    private static partial Regex AlertCase();
}
