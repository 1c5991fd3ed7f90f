using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace KmsFarm.DnsSrv;

/// <summary>A DNS server as given in a setting: <c>HOST[:PORT]</c>, where HOST is an IPv4 address, an IPv6 address (in
/// brackets when a port follows) or a name resolved by the system when used. The port defaults to 53.</summary>
public sealed record DnsServerAddress(string Host, int Port)
{
    public const int DefaultPort = 53;

    public override string ToString() => Host.Contains(':', StringComparison.Ordinal)
        ? string.Create(CultureInfo.InvariantCulture, $"[{Host}]:{Port}")
        : string.Create(CultureInfo.InvariantCulture, $"{Host}:{Port}");

    public static DnsServerAddress Parse(string text) =>
        TryParse(text, out var server, out string? error) ? server : throw new FormatException(error);

    public static bool TryParse(string? text, [NotNullWhen(true)] out DnsServerAddress? server, [NotNullWhen(false)] out string? error)
    {
        server = null;
        string value = text?.Trim() ?? string.Empty;
        if (value.Length == 0)
        {
            error = "is empty; expected HOST[:PORT], e.g. 192.0.2.53 or dns.lab.example:5353";
            return false;
        }

        string host = value;
        string? port = null;
        if (value[0] == '[')
        {
            int close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0 || (close + 1 < value.Length && value[close + 1] != ':'))
            {
                error = $"'{value}' is not [IPv6]:PORT";
                return false;
            }

            host = value[1..close];
            port = close + 1 < value.Length ? value[(close + 2)..] : null;
            if (!IPAddress.TryParse(host, out var v6) || v6.AddressFamily != AddressFamily.InterNetworkV6)
            {
                error = $"'{value}' has '{host}' in brackets, which is not an IPv6 address";
                return false;
            }
        }
        else if (value.Count(c => c == ':') == 1)
        {
            int colon = value.IndexOf(':', StringComparison.Ordinal);
            host = value[..colon];
            port = value[(colon + 1)..];
        }
        else if (value.Contains(':', StringComparison.Ordinal) && !IPAddress.TryParse(value, out _))
        {
            error = $"'{value}' is not HOST[:PORT] (an IPv6 address with a port goes in brackets: [::1]:53)";
            return false;
        }

        if (!IPAddress.TryParse(host, out _) && !DnsNames.IsValidHostName(host, out _))
        {
            error = $"'{value}' has host '{host}', which is neither an IP address nor a host name";
            return false;
        }

        int portNumber = DefaultPort;
        if (port is not null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out portNumber) || portNumber is < 1 or > 65535))
        {
            error = $"'{value}' has port '{port}'; expected 1..65535";
            return false;
        }

        server = new DnsServerAddress(host, portNumber);
        error = null;
        return true;
    }

    /// <summary>The server's addresses: the literal, or what the system resolver says the name is.</summary>
    /// <exception cref="DnsLookupException">The name does not resolve.</exception>
    public async Task<IPAddress[]> ResolveAsync(CancellationToken cancellationToken)
    {
        if (IPAddress.TryParse(Host, out var literal))
        {
            return [literal];
        }

        try
        {
            var addresses = await System.Net.Dns.GetHostAddressesAsync(Host, cancellationToken).ConfigureAwait(false);
            return addresses.Length > 0 ? addresses : throw new DnsLookupException($"DNS server name '{Host}' has no addresses.");
        }
        catch (SocketException ex)
        {
            throw new DnsLookupException($"DNS server name '{Host}' does not resolve: {ex.Message}", ex);
        }
    }
}
