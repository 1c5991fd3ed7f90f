using System.Globalization;
using System.Net;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using ARSoft.Tools.Net.Dns.DynamicUpdate;

namespace KmsFarm.DnsSrv;

/// <summary>One DNS server (its addresses, one port) as ARSoft's client sees it: UDP first, TCP when the reply is
/// truncated or UDP gets nothing. ARSoft swallows transport errors and returns null, so a null here means "no usable
/// answer within the timeout".</summary>
internal sealed class DnsConnection : IDisposable
{
    private readonly DnsClient _client;

    private DnsConnection(IReadOnlyList<IPAddress> addresses, int port, TimeSpan timeout, string server)
    {
        Timeout = timeout;
        Server = server;
        _client = new DnsClient(
            addresses,
            [new UdpClientTransport(port), new TcpClientTransport(port)],
            disposeTransport: true,
            queryTimeout: (int)Math.Clamp(timeout.TotalMilliseconds, 1, int.MaxValue));
    }

    /// <summary>The server as the operator named it, for messages.</summary>
    public string Server { get; }

    public TimeSpan Timeout { get; }

    public string NoAnswer => string.Create(CultureInfo.InvariantCulture, $"no answer from {Server} within {Timeout.TotalSeconds:0.###} s");

    public static async Task<DnsConnection> OpenAsync(DnsServerAddress server, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var addresses = await server.ResolveAsync(cancellationToken).ConfigureAwait(false);
        return new DnsConnection(addresses, server.Port, timeout, server.ToString());
    }

    public static DnsConnection Open(IReadOnlyList<IPAddress> addresses, int port, TimeSpan timeout, string server) =>
        new(addresses, port, timeout, server);

    public async Task<DnsMessage?> QueryAsync(DomainName name, RecordType type, bool recursionDesired, CancellationToken cancellationToken)
    {
        var options = new DnsQueryOptions { IsRecursionDesired = recursionDesired, IsEDnsEnabled = true };
        var response = await _client.ResolveAsync(name, type, RecordClass.INet, options, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return response;
    }

    public async Task<DnsUpdateMessage?> UpdateAsync(DnsUpdateMessage message, CancellationToken cancellationToken)
    {
        var response = await _client.SendUpdateAsync(message, cancellationToken).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return response;
    }

    public void Dispose() => ((IDisposable)_client).Dispose();
}
