namespace KmsFarm.TestKit;

/// <summary>Prometheus' <c>promtool</c> (Debian package <c>prometheus</c>, which tests/run-all.sh installs): lints a
/// metrics exposition, checks configs and rules, runs rule unit tests.</summary>
public static class Promtool
{
    /// <summary>The full path of promtool; throws naming the package when it is missing.</summary>
    public static string Path => ExternalTool.Find("promtool") ?? throw new InvalidOperationException(
        "'promtool' is not installed: install the Debian package prometheus (tests/run-all.sh does).");

    /// <summary><c>promtool check metrics</c> over <paramref name="exposition"/>: exit code 0 and no output when it is clean;
    /// otherwise the lint problems, one a line.</summary>
    public static async Task<(int ExitCode, string Problems)> CheckMetricsAsync(
        string exposition, CancellationToken cancellationToken = default)
    {
        var (exitCode, output, error) = await ExternalTool.RunAsync(Path, ["check", "metrics"], exposition, cancellationToken)
            .ConfigureAwait(false);
        return (exitCode, (output + error).Trim());
    }

    /// <summary>Runs promtool with <paramref name="arguments"/>: its exit code and everything it printed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(
        IEnumerable<string> arguments, CancellationToken cancellationToken = default)
    {
        var (exitCode, output, error) = await ExternalTool.RunAsync(Path, arguments, cancellationToken: cancellationToken)
            .ConfigureAwait(false);
        return (exitCode, (output + error).Trim());
    }
}
