using System.Net;
using System.Net.NetworkInformation;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace KmsFarm.DnsSrv;

/// <summary>Looks up a service's SRV records and their targets' addresses on one DNS server: the one given, or the first
/// the system is configured with (<c>/etc/resolv.conf</c> on Linux). Never falls back to a public resolver.</summary>
public sealed class SrvResolver : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    private readonly DnsConnection _dns;

    private SrvResolver(DnsConnection dns)
    {
        _dns = dns;
    }

    /// <summary>The server asked, for messages.</summary>
    public string Server => _dns.Server;

    /// <param name="server">The server to ask; null for the system's configured servers (port 53).</param>
    /// <exception cref="DnsLookupException">The server name does not resolve, or the system has no DNS server.</exception>
    public static async Task<SrvResolver> CreateAsync(DnsServerAddress? server, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (server is not null)
        {
            return new SrvResolver(await DnsConnection.OpenAsync(server, timeout, cancellationToken).ConfigureAwait(false));
        }

        var system = SystemServers();
        if (system.Count == 0)
        {
            throw new DnsLookupException("This machine has no DNS server configured; give one (--dns-server HOST[:PORT]).");
        }

        return new SrvResolver(DnsConnection.Open(system, DnsServerAddress.DefaultPort, timeout, string.Join(", ", system)));
    }

    /// <summary>The SRV records of <c>_vlmcs._tcp.<paramref name="domain"/></c> with their targets' addresses (from the
    /// reply's additional section, else by A and AAAA lookups on the same server), in the server's order. Empty when
    /// the domain says the service is decidedly not available (a single record with target <c>.</c>).</summary>
    /// <exception cref="DnsLookupException">No answer, an error code, or no such name.</exception>
    public async Task<IReadOnlyList<SrvTarget>> ResolveKmsAsync(string domain, CancellationToken cancellationToken) =>
        await ResolveAsync(DnsNames.KmsServiceName(domain), cancellationToken).ConfigureAwait(false);

    /// <inheritdoc cref="ResolveKmsAsync"/>
    public async Task<IReadOnlyList<SrvTarget>> ResolveAsync(string serviceName, CancellationToken cancellationToken)
    {
        var name = DomainName.Parse(serviceName);
        var response = await QueryAsync(name, RecordType.Srv, cancellationToken).ConfigureAwait(false);
        var records = response.AnswerRecords.OfType<SrvRecord>().ToList();
        if (records.Count == 0)
        {
            throw new DnsLookupException($"{serviceName} has no SRV record on {Server}: no KMS host is published there.") { ResponseCode = "NOERROR" };
        }

        if (records.Count == 1 && records[0].Target.Equals(DomainName.Root))
        {
            return [];
        }

        var targets = new List<SrvTarget>(records.Count);
        foreach (var record in records)
        {
            IReadOnlyList<IPAddress> addresses = AddressesIn(response.AdditionalRecords, record.Target);
            if (addresses.Count == 0)
            {
                addresses = await LookupAddressesAsync(record.Target, cancellationToken).ConfigureAwait(false);
            }

            targets.Add(new SrvTarget(record.Priority, record.Weight, record.Port, DnsNames.Normalize(record.Target.ToString()), addresses));
        }

        return targets;
    }

    /// <summary>A host's A and AAAA records on this server (IPv4 first); empty when it has none.</summary>
    public Task<IReadOnlyList<IPAddress>> ResolveAddressesAsync(string host, CancellationToken cancellationToken) =>
        LookupAddressesAsync(DomainName.Parse(DnsNames.Normalize(host)), cancellationToken);

    public void Dispose() => _dns.Dispose();

    /// <summary>The name servers the system resolver uses, de-duplicated, IPv4 first.</summary>
    internal static IReadOnlyList<IPAddress> SystemServers() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus is OperationalStatus.Up or OperationalStatus.Unknown)
            .SelectMany(n => n.GetIPProperties().DnsAddresses)
            .Distinct()
            .OrderBy(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 1 : 0)
            .ToList();

    private static List<IPAddress> AddressesIn(IEnumerable<DnsRecordBase> records, DomainName host) =>
    [
        .. records.OfType<ARecord>().Where(r => r.Name.Equals(host)).Select(r => r.Address),
        .. records.OfType<AaaaRecord>().Where(r => r.Name.Equals(host)).Select(r => r.Address),
    ];

    private async Task<IReadOnlyList<IPAddress>> LookupAddressesAsync(DomainName host, CancellationToken cancellationToken)
    {
        var addresses = new List<IPAddress>();
        foreach (var type in new[] { RecordType.A, RecordType.Aaaa })
        {
            var response = await _dns.QueryAsync(host, type, recursionDesired: true, cancellationToken).ConfigureAwait(false);
            if (response is { ReturnCode: ReturnCode.NoError })
            {
                addresses.AddRange(AddressesIn(response.AnswerRecords, host));
            }
        }

        return addresses;
    }

    private async Task<DnsMessage> QueryAsync(DomainName name, RecordType type, CancellationToken cancellationToken)
    {
        var response = await _dns.QueryAsync(name, type, recursionDesired: true, cancellationToken).ConfigureAwait(false)
            ?? throw new DnsLookupException($"Looking up {DnsNames.Normalize(name.ToString())}: {_dns.NoAnswer}.");
        if (response.ReturnCode == ReturnCode.NoError)
        {
            return response;
        }

        string code = DnsResponseCodes.Name((int)response.ReturnCode);
        string meaning = response.ReturnCode == ReturnCode.NxDomain ? "the name does not exist: no KMS host is published there" : "the server could not answer";
        throw new DnsLookupException($"{DnsNames.Normalize(name.ToString())} on {Server}: {code} ({meaning}).") { ResponseCode = code };
    }
}
