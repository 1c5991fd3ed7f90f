using KmsFarm.DnsSrv;

namespace KmsFarm.Client;

/// <summary>Finds KMS hosts as a Windows client does: the SRV records of <c>_vlmcs._tcp.DOMAIN</c>, to be tried in RFC 2782
/// order (<see cref="SrvOrdering"/>).</summary>
public static class KmsHostDiscovery
{
    /// <summary>The domain's KMS SRV records with their targets' addresses, in the server's order.</summary>
    /// <param name="server">The DNS server to ask; null for the system's.</param>
    /// <exception cref="DnsLookupException">No answer, an error, or no KMS host published in the domain.</exception>
    public static async Task<IReadOnlyList<SrvTarget>> DiscoverAsync(string domain, DnsServerAddress? server, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var resolver = await SrvResolver.CreateAsync(server, timeout, cancellationToken).ConfigureAwait(false);
        var records = await resolver.ResolveKmsAsync(domain, cancellationToken).ConfigureAwait(false);
        return records.Count > 0
            ? records
            : throw new DnsLookupException($"{DnsNames.KmsServiceName(domain)} on {resolver.Server} says no KMS host is offered (target '.').");
    }
}
