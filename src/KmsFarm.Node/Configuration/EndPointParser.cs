using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;

namespace KmsFarm.Node.Configuration;

/// <summary>Parses <c>HOST:PORT</c> where HOST is an IPv4 literal, a bracketed IPv6 literal, <c>*</c> (IPv4 any) or
/// <c>localhost</c>. No name resolution: a listener address must be unambiguous. IPv4-mapped IPv6 addresses are refused
/// (the node's IPv6 sockets are IPv6-only).</summary>
public static class EndPointParser
{
    public static bool TryParse(string? text, [NotNullWhen(true)] out IPEndPoint? endPoint, [NotNullWhen(false)] out string? error)
    {
        endPoint = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty; expected HOST:PORT";
            return false;
        }

        int colon = text.LastIndexOf(':');
        if (colon <= 0 || colon == text.Length - 1)
        {
            error = $"'{text}' is not HOST:PORT (IPv6 in brackets, e.g. [::]:1688)";
            return false;
        }

        string host = text[..colon];
        string portText = text[(colon + 1)..];
        if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port > IPEndPoint.MaxPort)
        {
            error = $"'{text}' has port '{portText}'; expected 0..65535";
            return false;
        }

        IPAddress? address;
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            if (!IPAddress.TryParse(host.AsSpan(1, host.Length - 2), out address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                error = $"'{text}' has host '{host}', which is not an IPv6 address";
                return false;
            }

            // IPv6 listeners are IPv6-only (V6ONLY), so an IPv4-mapped address can never be bound: say how to write it.
            if (address.IsIPv4MappedToIPv6)
            {
                error = $"'{text}' is an IPv4 address written as IPv6; write it as {address.MapToIPv4()}:{portText}";
                return false;
            }
        }
        else if (host == "*")
        {
            address = IPAddress.Any;
        }
        else if (string.Equals(host, "localhost", StringComparison.OrdinalIgnoreCase))
        {
            address = IPAddress.Loopback;
        }
        else if (host.Contains(':', StringComparison.Ordinal) || !IPAddress.TryParse(host, out address))
        {
            error = $"'{text}' has host '{host}'; expected an IPv4 address, [IPv6], * or localhost";
            return false;
        }

        endPoint = new IPEndPoint(address, port);
        error = null;
        return true;
    }

    public static IPEndPoint Parse(string text, string settingName) =>
        TryParse(text, out var endPoint, out string? error) ? endPoint : throw new NodeConfigurationException($"{settingName}: {error}.");
}
