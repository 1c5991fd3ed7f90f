using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace KmsFarm.Client;

/// <summary>A KMS host address as given on the command line: <c>host:port</c>, <c>[v6addr]:port</c>, or a bare host
/// (port 1688).</summary>
public sealed record HostEndpoint(string Host, int Port)
{
    public const int DefaultPort = 1688;

    public override string ToString() => Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]:{Port}" : $"{Host}:{Port}";

    public static HostEndpoint Parse(string text) =>
        TryParse(text, out var endpoint, out var error) ? endpoint : throw new FormatException(error);

    /// <summary>Parses one endpoint; on failure <paramref name="error"/> says what is wrong with <paramref name="text"/>.</summary>
    public static bool TryParse(string? text, [NotNullWhen(true)] out HostEndpoint? endpoint, [NotNullWhen(false)] out string? error)
    {
        endpoint = null;
        error = null;
        var value = text?.Trim() ?? string.Empty;
        if (value.Length == 0)
        {
            error = "A host is required (host:port, e.g. 127.0.0.1:1688).";
            return false;
        }

        string host;
        string? port = null;
        if (value[0] == '[')
        {
            int close = value.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"'{value}' opens an IPv6 address with '[' but does not close it.";
                return false;
            }

            host = value[1..close];
            var rest = value[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':')
                {
                    error = $"'{value}': expected ':port' after ']'.";
                    return false;
                }

                port = rest[1..];
            }
        }
        else
        {
            int colon = value.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0 && colon != value.LastIndexOf(':'))
            {
                error = $"'{value}' looks like an IPv6 address; write it as [address]:port.";
                return false;
            }

            host = colon < 0 ? value : value[..colon];
            port = colon < 0 ? null : value[(colon + 1)..];
        }

        if (host.Length == 0 || host.Any(char.IsWhiteSpace))
        {
            error = $"'{value}' has no valid host name.";
            return false;
        }

        int portNumber = DefaultPort;
        if (port is not null && (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out portNumber) || portNumber is < 1 or > 65535))
        {
            error = $"'{value}' has an invalid port '{port}' (expected 1-65535).";
            return false;
        }

        endpoint = new HostEndpoint(host, portNumber);
        return true;
    }

    /// <summary>Parses a comma-separated list of endpoints.</summary>
    public static bool TryParseList(string? text, [NotNullWhen(true)] out IReadOnlyList<HostEndpoint>? endpoints, [NotNullWhen(false)] out string? error)
    {
        endpoints = null;
        var list = new List<HostEndpoint>();
        foreach (var part in (text ?? string.Empty).Split(',', StringSplitOptions.TrimEntries))
        {
            if (!TryParse(part, out var endpoint, out error))
            {
                return false;
            }

            list.Add(endpoint);
        }

        error = null;
        endpoints = list;
        return true;
    }
}
