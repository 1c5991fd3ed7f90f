using System.Globalization;
using KmsFarm.Client.Load;

namespace KmsFarm.Client.Cli;

/// <summary>The human-readable form of a <see cref="LoadReport"/>.</summary>
internal static class LoadReportWriter
{
    public static void Write(LoadReport r, TextWriter output)
    {
        var ic = CultureInfo.InvariantCulture;
        output.WriteLine();
        output.WriteLine(string.Create(ic, $"Elapsed:           {r.Elapsed.TotalSeconds:0.00} s"));
        output.WriteLine(string.Create(ic, $"Requests:          {r.Requests} ({r.FirstActivations} first activations, {r.Renewals} renewals, {r.Refused} refused, {r.FailedRequests} failed)"));
        output.WriteLine(string.Create(ic, $"Throughput:        {r.ActivationsPerSecond:0.0} activations/s{(r.TargetRate is { } rate ? $" (paced at {rate:0.#} requests/s)" : string.Empty)}"));
        output.WriteLine(string.Create(ic, $"Machines activated: {r.MachinesActivated} of {r.Clients}"));
        output.WriteLine(string.Create(ic, $"Transfer syntax:   NDR32 {r.Ndr32Requests}, NDR64 {r.Ndr64Requests}"));
        output.WriteLine(string.Create(ic, $"Latency (ms):      p50 {r.Latency.P50Ms:0.000}  p95 {r.Latency.P95Ms:0.000}  p99 {r.Latency.P99Ms:0.000}  max {r.Latency.MaxMs:0.000}  mean {r.Latency.MeanMs:0.000}"));
        if (r.ActivationsBelowNPolicy > 0)
        {
            output.WriteLine(string.Create(ic, $"Below N_Policy:    {r.ActivationsBelowNPolicy} answers carried a count below the product's N_Policy"));
        }

        output.WriteLine(string.Create(ic, $"Errors:            {string.Join(", ", r.Errors.Select(e => $"{e.Key} {e.Value}"))}{(r.Failovers > 0 || r.MachinesFailedOver > 0 ? $" (fail-overs {r.Failovers}; {r.MachinesFailedOver} machines moved to another host)" : string.Empty)}"));
        foreach (var (hresult, count) in r.RefusedByHResult)
        {
            output.WriteLine(string.Create(ic, $"  refused {hresult}: {count}"));
        }

        foreach (var host in r.Hosts)
        {
            output.WriteLine(string.Create(ic, $"Host {host.Host}: {host.Activations} activations, {host.Errors} errors"));
            foreach (var count in host.Counts)
            {
                output.WriteLine(count.Count is { } value
                    ? string.Create(ic, $"  {count.Group,-15} count {value} (asked as {count.Product})")
                    : string.Create(ic, $"  {count.Group,-15} no count: {count.Error}"));
            }
        }
    }
}
