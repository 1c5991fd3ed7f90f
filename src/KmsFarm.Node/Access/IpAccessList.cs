using System.Diagnostics.CodeAnalysis;
using System.Net;

namespace KmsFarm.Node.Access;

/// <summary>The allow/deny decision for a client address: a deny match refuses, otherwise an allow match admits,
/// otherwise refused. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are judged as the IPv4 address.</summary>
public sealed class IpAccessList
{
    private readonly IPNetwork[] _allow;
    private readonly IPNetwork[] _deny;

    public IpAccessList(IEnumerable<IPNetwork> allow, IEnumerable<IPNetwork> deny)
    {
        _allow = allow.ToArray();
        _deny = deny.ToArray();
    }

    public IReadOnlyList<IPNetwork> Allow => _allow;

    public IReadOnlyList<IPNetwork> Deny => _deny;

    public bool IsAllowed(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        // IPNetwork.Contains matches the scope-free address; a link-local fe80::1%eth0 still matches fe80::/10.
        foreach (var network in _deny)
        {
            if (network.Contains(address))
            {
                return false;
            }
        }

        foreach (var network in _allow)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Parses a CIDR such as <c>10.0.0.0/8</c> or <c>fc00::/7</c>; a bare address means a single host
    /// (/32 or /128). The error says what is wrong, for a message that also names the setting.</summary>
    public static bool TryParseCidr(string? text, out IPNetwork network, [NotNullWhen(false)] out string? error)
    {
        network = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "is empty; expected a CIDR such as 10.0.0.0/8";
            return false;
        }

        text = text.Trim();
        if (!text.Contains('/', StringComparison.Ordinal))
        {
            if (!IPAddress.TryParse(text, out var single))
            {
                error = $"'{text}' is neither an IP address nor a CIDR";
                return false;
            }

            network = new IPNetwork(single, single.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            error = null;
            return true;
        }

        // Set bits after the prefix (10.0.0.1/8) are refused, not masked: they usually mean a typo in an access list.
        int slash = text.IndexOf('/', StringComparison.Ordinal);
        if (IPNetwork.TryParse(text, out network) && IPAddress.TryParse(text.AsSpan(0, slash), out var given)
            && given.Equals(Mask(given, network.PrefixLength)))
        {
            error = null;
            return true;
        }

        network = default;
        if (!IPAddress.TryParse(text.AsSpan(0, slash), out var baseAddress))
        {
            error = $"'{text}' does not start with an IP address";
        }
        else if (!int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int prefix)
            || prefix > (baseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
        {
            error = $"'{text}' has an invalid prefix length (0..32 for IPv4, 0..128 for IPv6)";
        }
        else
        {
            error = $"'{text}' has bits set after the prefix (did you mean {new IPNetwork(Mask(baseAddress, prefix), prefix)}?)";
        }

        return false;
    }

    private static IPAddress Mask(IPAddress address, int prefix)
    {
        byte[] bytes = address.GetAddressBytes();
        for (int i = 0; i < bytes.Length; i++)
        {
            int keep = Math.Clamp(prefix - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }

        return new IPAddress(bytes);
    }
}
