using System.Net.Sockets;
using KmsFarm.DnsSrv;

namespace KmsFarm.Client.Cli;

internal static partial class ActivateRunner
{
    /// <summary>Connects to the first host that answers. With <c>--host</c> that is the one host. With
    /// <c>--dns-domain</c> it is what a Windows client does: the cached host first (<c>--dns-cache</c>) without asking
    /// DNS; then the domain's SRV records in RFC 2782 order, each target's addresses in turn, moving on while a host does
    /// not answer (connect refused or timed out, or no bind reply).</summary>
    /// <exception cref="DnsLookupException">No host answered and discovery found none to try.</exception>
    /// <exception cref="KmsConnectException">No host answered; the message lists each.</exception>
    private static async Task<(KmsClientConnection Connection, KmsHostCandidate Host, HostEndpoint Endpoint)> ConnectAsync(
        ActivateSettings settings, TextWriter progress, List<string> unreachable, CancellationToken cancellationToken)
    {
        await foreach (var host in CandidatesAsync(settings, progress, cancellationToken).ConfigureAwait(false))
        {
            foreach (var endpoint in host.Endpoints)
            {
                progress.WriteLine(Describe(settings, endpoint, host));
                try
                {
                    var connection = await KmsClientConnection.ConnectAsync(endpoint.Host, endpoint.Port, settings.ClientOptions, cancellationToken)
                        .ConfigureAwait(false);
                    return (connection, host, endpoint);
                }
                catch (Exception ex) when (settings.Dns is not null && ex is IOException or SocketException or TimeoutException)
                {
                    string where = host.Name == endpoint.ToString() ? host.Name : $"{host.Name} ({endpoint})";
                    unreachable.Add($"{where}: {ex.Message}");
                    progress.WriteLine($"  {where} did not answer ({ex.Message}); trying the next host.");
                }
            }
        }

        throw new KmsConnectException("No KMS host answered: " + string.Join("; ", unreachable));
    }

    private static async IAsyncEnumerable<KmsHostCandidate> CandidatesAsync(
        ActivateSettings settings, TextWriter progress, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (settings.Dns is not { } dns)
        {
            yield return KmsHostCandidate.FromHost(settings.Host!);
            yield break;
        }

        var cached = dns.CachePath is { } path ? KmsHostCache.Load(path).Get(dns.Domain) : null;
        if (cached is not null)
        {
            progress.WriteLine($"Using the cached KMS host {cached.Name} for {dns.Domain} first.");
            yield return cached;
        }

        var records = await KmsHostDiscovery.DiscoverAsync(dns.Domain, dns.Server, settings.ClientOptions.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        var ordered = SrvOrdering.Order(records, Random.Shared);
        string where = DnsNames.KmsServiceName(dns.Domain) + (dns.Server is null ? string.Empty : " on " + dns.Server);
        progress.WriteLine($"Found {records.Count} KMS host(s) in {where}, in the order tried:");
        foreach (var record in ordered)
        {
            progress.WriteLine("  " + record);
        }

        foreach (var host in ordered.Select(KmsHostCandidate.FromSrv).Where(h => h.Name != cached?.Name))
        {
            yield return host;
        }
    }
}
