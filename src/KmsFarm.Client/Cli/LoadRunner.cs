using System.Globalization;
using KmsFarm.Client.Load;
using KmsFarm.DnsSrv;

namespace KmsFarm.Client.Cli;

/// <summary>Runs <c>load</c>: live progress on stderr (<see cref="LoadProgressDisplay"/>), then the report: tables, or with
/// <c>--json</c> the report alone as JSON.</summary>
internal static class LoadRunner
{
    public static async Task<int> RunAsync(
        LoadSettings settings,
        DnsDiscoverySettings? dns,
        ClientCatalog catalog,
        bool json,
        FileInfo? acknowledged,
        TextWriter output,
        TextWriter error,
        CancellationToken cancellationToken)
    {
        if (dns is not null)
        {
            try
            {
                var records = await KmsHostDiscovery.DiscoverAsync(dns.Domain, dns.Server, settings.ClientOptions.ConnectTimeout, cancellationToken)
                    .ConfigureAwait(false);
                settings = settings.WithDiscoveredHosts(records);
            }
            catch (DnsLookupException ex)
            {
                error.WriteLine("No KMS host found: " + ex.Message);
                return ExitCodes.DiscoveryFailed;
            }

            if (!json)
            {
                output.WriteLine($"Found {settings.SrvRecords!.Count} KMS host(s) in {DnsNames.KmsServiceName(dns.Domain)}; "
                    + "each machine tries them in RFC 2782 order and keeps the one that answers:");
                foreach (var (record, host) in settings.SrvRecords.Zip(settings.Hosts))
                {
                    output.WriteLine($"  {record} at {host}");
                }
            }
        }

        ProductMix mix;
        try
        {
            mix = ProductMix.Create(settings.Mix, catalog.FindBySkuId);
        }
        catch (InvalidOperationException ex)
        {
            error.WriteLine(ex.Message);
            return ExitCodes.Usage;
        }

        var population = new MachinePopulation(settings.Clients, settings.Seed, mix);
        var generator = new LoadGenerator(settings, population);
        if (!json)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Load: {settings.Clients} machines (mix {settings.Mix}, seed {settings.Seed}), {settings.Concurrency} workers, {settings.Duration.TotalSeconds:0.#} s against {string.Join(", ", settings.Hosts)}"));
        }

        using var progressStop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var progress = json ? Task.CompletedTask : LoadProgressDisplay.ShowAsync(generator, error, progressStop.Token);
        LoadReport report;
        try
        {
            report = await generator.RunAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await progressStop.CancelAsync().ConfigureAwait(false);
            await progress.ConfigureAwait(false);
        }

        if (acknowledged is not null)
        {
            await WriteAcknowledgedAsync(acknowledged, generator.Acknowledged, settings.Hosts, cancellationToken).ConfigureAwait(false);
        }

        if (json)
        {
            CliJson.Write(output, report);
        }
        else
        {
            LoadReportWriter.Write(report, TerminalOutput.Create(output));
        }

        return report.FailedRequests > 0 || report.Errors.Where(e => e.Key != LoadErrorKind.Refused).Sum(e => e.Value) > 0 ? ExitCodes.LoadErrors
            : report.Refused > 0 ? ExitCodes.Refused
            : ExitCodes.Success;
    }

    /// <summary>One line per acknowledged activation: CMID, product group, the count the host answered, the host.</summary>
    private static async Task WriteAcknowledgedAsync(
        FileInfo file, IReadOnlyCollection<AcknowledgedActivation> activations, IReadOnlyList<HostEndpoint> hosts, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(file.FullName, append: false);
        await writer.WriteLineAsync("cmid,group,count,host").ConfigureAwait(false);
        foreach (var a in activations)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await writer.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{a.ClientMachineId:D},{a.Group},{a.Count},{hosts[a.Host]}"))
                .ConfigureAwait(false);
        }
    }
}
