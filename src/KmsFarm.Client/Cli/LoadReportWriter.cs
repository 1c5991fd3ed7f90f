using System.Globalization;
using KmsFarm.Client.Load;
using Spectre.Console;

namespace KmsFarm.Client.Cli;

/// <summary>The human-readable form of a <see cref="LoadReport"/>: a summary table and one table of the counts each host
/// reports per product group. <c>--json</c> writes the report itself instead (its shape is a contract).</summary>
internal static class LoadReportWriter
{
    public static void Write(LoadReport r, IAnsiConsole console)
    {
        var ic = CultureInfo.InvariantCulture;
        var summary = new Table().Title("Load report").AddColumns("", "");
        summary.ShowHeaders = false;
        void Row(string name, string value) => summary.AddRow(Markup.Escape(name), Markup.Escape(value));
        Row("Elapsed", string.Create(ic, $"{r.Elapsed.TotalSeconds:0.00} s"));
        Row("Requests", string.Create(ic, $"{r.Requests} ({r.FirstActivations} first activations, {r.Renewals} renewals, {r.Refused} refused, {r.FailedRequests} failed)"));
        Row("Throughput", string.Create(ic, $"{r.ActivationsPerSecond:0.0} activations/s{(r.TargetRate is { } rate ? $" (paced at {rate:0.#} requests/s)" : string.Empty)}"));
        Row("Machines activated", string.Create(ic, $"{r.MachinesActivated} of {r.Clients}"));
        Row("Transfer syntax", string.Create(ic, $"NDR32 {r.Ndr32Requests}, NDR64 {r.Ndr64Requests}"));
        Row("Latency (ms)", string.Create(ic, $"p50 {r.Latency.P50Ms:0.000}  p95 {r.Latency.P95Ms:0.000}  p99 {r.Latency.P99Ms:0.000}  max {r.Latency.MaxMs:0.000}  mean {r.Latency.MeanMs:0.000}"));
        if (r.ActivationsBelowNPolicy > 0)
        {
            Row("Below N_Policy", string.Create(ic, $"{r.ActivationsBelowNPolicy} answers carried a count below the product's N_Policy"));
        }

        Row("Errors", string.Create(ic, $"{string.Join(", ", r.Errors.Select(e => $"{e.Key} {e.Value}"))}{(r.Failovers > 0 || r.MachinesFailedOver > 0 ? $" (fail-overs {r.Failovers}; {r.MachinesFailedOver} machines moved to another host)" : string.Empty)}"));
        foreach (var (hresult, count) in r.RefusedByHResult)
        {
            Row("  refused " + hresult, count.ToString(ic));
        }

        console.Write(summary);

        var hosts = new Table().Title("Hosts").AddColumns("Host", "Activations", "Errors", "Product group", "Count", "Asked as");
        hosts.Columns[1].RightAligned();
        hosts.Columns[2].RightAligned();
        hosts.Columns[4].RightAligned();
        foreach (var host in r.Hosts)
        {
            if (host.Counts.Count == 0)
            {
                hosts.AddRow(Markup.Escape(host.Host), host.Activations.ToString(ic), host.Errors.ToString(ic), "-", "-", "-");
            }

            for (int i = 0; i < host.Counts.Count; i++)
            {
                var count = host.Counts[i];
                hosts.AddRow(
                    i == 0 ? Markup.Escape(host.Host) : string.Empty,
                    i == 0 ? host.Activations.ToString(ic) : string.Empty,
                    i == 0 ? host.Errors.ToString(ic) : string.Empty,
                    count.Group.ToString(),
                    count.Count?.ToString(ic) ?? "-",
                    Markup.Escape(count.Count is null ? "no count: " + count.Error : count.Product));
            }
        }

        console.Write(hosts);
    }
}
