using System.Net.Sockets;
using KmsFarm.DnsSrv;

namespace KmsFarm.Client.Cli;

internal static partial class ActivateRunner
{
    /// <summary>Connects to the first host that answers, as a Windows client does. The host kept in the host cache for
    /// this domain or host list (the one that answered last time) is tried first; then, with <c>--host</c>, the hosts in
    /// the order given, with <c>--dns-domain</c> the domain's SRV records in RFC 2782 order (DNS is asked only once the
    /// kept host did not answer), each target's addresses in turn. A host that does not answer (connect refused or timed
    /// out, or no bind reply) is recorded in the cache's backoff, and a host still backing off from an earlier run is
    /// tried only after the others.</summary>
    /// <exception cref="DnsLookupException">No host answered and discovery found none to try.</exception>
    /// <exception cref="KmsConnectException">No host answered; the message lists each.</exception>
    private static async Task<(KmsClientConnection Connection, KmsHostCandidate Host, HostEndpoint Endpoint)> ConnectAsync(
        ActivateSettings settings, KmsHostCache? cache, TextWriter progress, List<string> unreachable, CancellationToken cancellationToken)
    {
        var backoff = cache?.Backoff ?? new HostBackoff();
        bool several = settings.Dns is not null || settings.Hosts.Count > 1;
        await foreach (var host in CandidatesAsync(settings, cache, backoff, progress, cancellationToken).ConfigureAwait(false))
        {
            foreach (var endpoint in host.Endpoints)
            {
                progress.WriteLine(Describe(settings, endpoint, host));
                try
                {
                    var connection = await KmsClientConnection.ConnectAsync(endpoint.Host, endpoint.Port, settings.ClientOptions, cancellationToken)
                        .ConfigureAwait(false);
                    backoff.RecordSuccess(host.Name);
                    return (connection, host, endpoint);
                }
                catch (Exception ex) when (several && ex is IOException or SocketException or TimeoutException)
                {
                    string where = host.Name == endpoint.ToString() ? host.Name : $"{host.Name} ({endpoint})";
                    unreachable.Add($"{where}: {ex.Message}");
                    progress.WriteLine($"  {where} did not answer ({ex.Message}); trying the next host.");
                }
            }

            backoff.RecordFailure(host.Name);
        }

        throw new KmsConnectException("No KMS host answered: " + string.Join("; ", unreachable));
    }

    /// <summary>The key the host cache keeps the answering host under: the DNS domain, or the host list.</summary>
    private static string CacheKey(ActivateSettings settings) => settings.Dns?.Domain ?? KmsHostCache.ListKey(settings.Hosts);

    private static async IAsyncEnumerable<KmsHostCandidate> CandidatesAsync(
        ActivateSettings settings,
        KmsHostCache? cache,
        HostBackoff backoff,
        TextWriter progress,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var kept = cache?.Get(CacheKey(settings));
        if (settings.Dns is not { } dns)
        {
            var listed = settings.Hosts.Select(KmsHostCandidate.FromHost).ToList();
            kept = kept is null ? null : listed.Find(h => h.Name == kept.Name);
            if (kept is not null)
            {
                progress.WriteLine($"Using the cached KMS host {kept.Name} first.");
            }

            var preferred = kept is null ? listed : listed.Where(h => h != kept).Prepend(kept);
            foreach (var host in backoff.Order(preferred, h => h.Name))
            {
                yield return host;
            }

            yield break;
        }

        // The kept host without asking DNS, unless it is still backing off from an earlier failure.
        bool keptFirst = kept is not null && backoff.TryBeginAttempt(kept.Name, out _);
        if (kept is not null && keptFirst)
        {
            progress.WriteLine($"Using the cached KMS host {kept.Name} for {dns.Domain} first.");
            yield return kept;
        }

        var records = await KmsHostDiscovery.DiscoverAsync(dns.Domain, dns.Server, settings.ClientOptions.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        var ordered = SrvOrdering.Order(records, Random.Shared);
        string where = DnsNames.KmsServiceName(dns.Domain) + (dns.Server is null ? string.Empty : " on " + dns.Server);
        progress.WriteLine($"Found {records.Count} KMS host(s) in {where}, in the order tried:");
        foreach (var record in ordered)
        {
            progress.WriteLine("  " + record);
        }

        var discovered = ordered.Select(KmsHostCandidate.FromSrv).Where(h => !keptFirst || h.Name != kept!.Name);
        foreach (var host in backoff.Order(discovered, h => h.Name))
        {
            yield return host;
        }
    }
}
