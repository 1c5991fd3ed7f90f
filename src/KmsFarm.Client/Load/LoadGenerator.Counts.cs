using System.Net.Sockets;
using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client.Load;

public sealed partial class LoadGenerator
{
    /// <summary>Asks host <paramref name="host"/> for its count in every product group the population uses, with the
    /// CMID of a machine the host already counted (so the query itself does not change the count).</summary>
    private async Task<IReadOnlyList<GroupCountReport>> QueryCountsAsync(int host, CancellationToken cancellationToken)
    {
        var reports = new List<GroupCountReport>();
        var groups = _population.Mix.Entries.Select(e => e.Product.Group).Distinct().Order();
        foreach (var group in groups)
        {
            var machine = PickCountedMachine(group, host);
            if (machine is null)
            {
                reports.Add(new GroupCountReport(group, string.Empty, null, "no machine of this group was activated"));
                continue;
            }

            var endpoint = _settings.Hosts[host];
            var version = _settings.Protocol ?? machine.Product.DefaultProtocol;
            try
            {
                await using var connection = await KmsClientConnection.ConnectAsync(endpoint.Host, endpoint.Port, _settings.ClientOptions, cancellationToken)
                    .ConfigureAwait(false);
                var result = await connection.ActivateAsync(version, machine.CreateRequest(version, DateTime.UtcNow, KmsRequestFactory.LicensedStatus), cancellationToken)
                    .ConfigureAwait(false);
                reports.Add(result.Succeeded
                    ? new GroupCountReport(group, machine.Product.Name, result.Response!.CurrentCount, null)
                    : new GroupCountReport(group, machine.Product.Name, null, $"refused {HResultText.Format(result.HResult)}"));
            }
            catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or KmsProtocolException)
            {
                reports.Add(new GroupCountReport(group, machine.Product.Name, null, ex.Message));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                reports.Add(new GroupCountReport(group, machine.Product.Name, null, "interrupted"));
                break;
            }
        }

        return reports;
    }

    /// <summary>A machine of <paramref name="group"/> first activated through <paramref name="host"/>, else through any host
    /// (a farm shares its ledger, so that CMID is counted everywhere).</summary>
    private KmsClientMachine? PickCountedMachine(ProductGroup group, int host)
    {
        KmsClientMachine? fallback = null;
        lock (_activatedLock)
        {
            foreach (int index in _activated)
            {
                var machine = _population[index];
                if (machine.Product.Group != group)
                {
                    continue;
                }

                if (_activatedVia[index] == host + 1)
                {
                    return machine;
                }

                fallback ??= machine;
            }
        }

        return fallback;
    }
}
