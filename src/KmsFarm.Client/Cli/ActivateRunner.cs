using System.Globalization;
using System.Net.Sockets;
using KmsFarm.DnsSrv;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client.Cli;

/// <summary>Runs <c>activate</c>: one connection, <see cref="ActivateSettings.Count"/> requests, a report per request.
/// With several hosts or <c>--dns-domain</c> the host is found as a Windows client finds it (see <see cref="ConnectAsync"/>).</summary>
internal static partial class ActivateRunner
{
    public static async Task<int> RunAsync(ActivateSettings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var results = new List<RequestReport>();
        var unreachable = new List<string>();
        string? failure = null;
        int exitCode = ExitCodes.Success;
        KmsHostCandidate? answered = null;
        HostEndpoint? endpoint = settings.Hosts.Count == 1 ? settings.Hosts[0] : null;
        var machine = new KmsClientMachine(settings.ClientMachineId, settings.WorkstationName, settings.Product);
        var cache = settings.HostCache is { } cachePath ? KmsHostCache.Load(cachePath) : null;
        try
        {
            var connected = await ConnectAsync(settings, cache, settings.Json ? TextWriter.Null : output, unreachable, cancellationToken)
                .ConfigureAwait(false);
            (answered, endpoint) = (connected.Host, connected.Endpoint);
            await using var connection = connected.Connection;
            for (int i = 1; i <= settings.Count; i++)
            {
                var request = machine.CreateRequest(settings.Protocol, DateTime.UtcNow);
                var result = await connection.ActivateAsync(settings.Protocol, request, cancellationToken).ConfigureAwait(false);
                var report = RequestReport.From(i, settings.Protocol, settings.Product, result);
                results.Add(report);
                if (!settings.Json)
                {
                    report.WriteText(output);
                }

                if (!result.Succeeded)
                {
                    failure = $"The KMS host refused the request: {HResultText.Format(result.HResult)} ({HResultText.Describe(result.HResult)}).";
                    exitCode = ExitCodes.Refused;
                    break;
                }
            }
        }
        catch (DnsLookupException ex)
        {
            failure = "No KMS host found: " + ex.Message;
            exitCode = ExitCodes.DiscoveryFailed;
        }
        catch (KmsProtocolException ex)
        {
            failure = "Protocol error: " + ex.Message;
            exitCode = ExitCodes.ProtocolError;
        }
        catch (Exception ex) when (ex is IOException or SocketException or TimeoutException)
        {
            failure = ex.Message;
            exitCode = ExitCodes.NetworkError;
        }

        // The host answered (an activation or a refusal): remember it, as a Windows client caches its KMS host; and remember
        // the hosts that did not answer, so the next run tries them only after their backoff.
        if (cache is not null)
        {
            if (answered is not null && exitCode is ExitCodes.Success or ExitCodes.Refused)
            {
                cache.Keep(CacheKey(settings), answered);
            }

            cache.Save();
        }

        if (settings.Json)
        {
            CliJson.Write(output, new
            {
                host = endpoint?.ToString(),
                kmsHost = settings.Dns is null && settings.Hosts.Count == 1 ? null : answered?.Name,
                dnsDomain = settings.Dns?.Domain,
                unreachable = unreachable.Count > 0 ? unreachable : null,
                product = settings.Product.Name,
                skuId = settings.Product.SkuId,
                kmsCountedId = settings.Product.KmsCountedId,
                applicationId = settings.Product.ApplicationId,
                group = settings.Product.Group,
                nPolicy = settings.Product.RequiredClientCount,
                protocol = (int)settings.Protocol,
                cmid = settings.ClientMachineId,
                machine = settings.WorkstationName,
                success = exitCode == ExitCodes.Success,
                error = failure,
                requests = results,
            });
        }
        else if (failure is not null)
        {
            error.WriteLine(failure);
        }

        return exitCode;
    }

    private static string Describe(ActivateSettings settings, HostEndpoint endpoint, KmsHostCandidate host)
    {
        string target = host.Name == endpoint.ToString() ? host.Name : $"{host.Name} ({endpoint})";
        return string.Create(CultureInfo.InvariantCulture,
            $"Connecting to {target} ({settings.Product.Name}, protocol V{(int)settings.Protocol}, CMID {settings.ClientMachineId}, machine {settings.WorkstationName})");
    }
}
