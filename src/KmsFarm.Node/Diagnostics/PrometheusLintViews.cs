using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;

namespace KmsFarm.Node.Diagnostics;

/// <summary>An OpenTelemetry view that keeps <c>/metrics</c> clean for <c>promtool check metrics</c>, whose lints the
/// exporter's name translation does not satisfy for some framework instruments (ours are named to pass as they are):
/// <list type="bullet">
/// <item>a gauge or sum whose name ends in <c>.count</c> becomes <c>*_count</c>, which Prometheus reserves for histograms
/// and summaries: the runtime's, process's and Npgsql's ones are renamed (<see cref="Renamed"/>);</item>
/// <item>Orleans publishes its instruments without descriptions (no HELP line): each gets one naming the instrument;</item>
/// <item>Orleans' durations in milliseconds and memory sizes in megabytes would be exported as <c>*_milliseconds</c> and
/// <c>*_megabytes</c> (Prometheus' base units are seconds and bytes, and a view cannot change a unit): they are left out.
/// The grain calls that matter are timed by our own <c>kms.product_group.apply.duration</c>; the process instrumentation
/// reports memory in bytes.</item>
/// </list>
/// docs/metrics.md lists the results.</summary>
public static class PrometheusLintViews
{
    /// <summary>Framework instruments exported under another name, and the name they get.</summary>
    public static readonly IReadOnlyDictionary<string, string> Renamed = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["dotnet.assembly.count"] = "dotnet.assemblies.loaded",
        ["dotnet.timer.count"] = "dotnet.timers.active",
        ["dotnet.process.cpu.count"] = "dotnet.process.cpus",
        ["process.thread.count"] = "process.threads",
        ["process.unix.file_descriptor.count"] = "process.open_fds",
        ["db.client.connection.count"] = "db.client.connections.usage",
    };

    /// <summary>The meter whose instruments get descriptions and lose their millisecond durations.</summary>
    public const string OrleansMeter = "Microsoft.Orleans";

    /// <summary>The view: null keeps an instrument as it is.</summary>
    public static MetricStreamConfiguration? Configure(Instrument instrument)
    {
        ArgumentNullException.ThrowIfNull(instrument);
        if (Renamed.TryGetValue(instrument.Name, out string? name))
        {
            return new MetricStreamConfiguration { Name = name };
        }

        if (instrument.Meter.Name != OrleansMeter)
        {
            return null;
        }

        if (!IsBaseUnit(instrument.Unit))
        {
            return MetricStreamConfiguration.Drop;
        }

        return string.IsNullOrEmpty(instrument.Description)
            ? new MetricStreamConfiguration { Description = "Orleans instrument " + instrument.Name + "." }
            : null;
    }

    /// <summary>Units the exporter turns into a suffix promtool accepts: none, an annotation (<c>{grain}</c>, dropped),
    /// seconds, bytes, or a ratio.</summary>
    private static bool IsBaseUnit(string? unit) =>
        string.IsNullOrEmpty(unit) || unit.StartsWith('{') || unit is "s" or "By" or "1";
}
