using System.CommandLine.Parsing;
using System.Globalization;
using KmsFarm.DnsSrv;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client.Cli;

/// <summary>Custom value parsers: they report a clear message through the parse result instead of throwing.</summary>
internal static class CliParsers
{
    public static IReadOnlyList<HostEndpoint>? HostList(ArgumentResult result)
    {
        var text = string.Join(',', result.Tokens.Select(t => t.Value));
        if (HostEndpoint.TryParseList(text, out var endpoints, out var error))
        {
            return endpoints;
        }

        result.AddError((result.Parent is OptionResult option ? option.Option.Name : "--hosts") + ": " + error);
        return null;
    }

    public static string? DnsDomain(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (DnsNames.IsValidHostName(text, out var error))
        {
            return DnsNames.Normalize(text);
        }

        result.AddError("--dns-domain: the domain " + error + ".");
        return null;
    }

    public static DnsServerAddress? DnsServer(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
        if (DnsServerAddress.TryParse(text, out var server, out var error))
        {
            return server;
        }

        result.AddError("--dns-server: " + error + ".");
        return null;
    }

    /// <summary>4, 5 or 6 (also accepts "V6" and "6.0").</summary>
    public static KmsProtocolVersion? Protocol(ArgumentResult result) => ParseProtocol(result, allowAuto: false);

    /// <summary>auto, 4, 5 or 6 as an int; auto (0) means each product's default protocol.</summary>
    public static int ProtocolOrAuto(ArgumentResult result) => (int?)ParseProtocol(result, allowAuto: true) ?? 0;

    /// <summary>A duration: <c>30s</c>, <c>5m</c>, <c>1h</c>, <c>250ms</c>, plain seconds (<c>90</c>) or <c>hh:mm:ss</c>.</summary>
    public static TimeSpan Duration(ArgumentResult result)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value.Trim() : string.Empty;
        if (TryParseDuration(text, out var value) && value > TimeSpan.Zero)
        {
            return value;
        }

        result.AddError($"--duration: '{text}' is not a positive duration (examples: 30s, 5m, 1h, 90, 00:02:00).");
        return TimeSpan.Zero;
    }

    public static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        (string number, double scale) = text switch
        {
            _ when text.EndsWith("ms", StringComparison.OrdinalIgnoreCase) => (text[..^2], 0.001),
            _ when text.EndsWith('s') || text.EndsWith('S') => (text[..^1], 1),
            _ when text.EndsWith('m') || text.EndsWith('M') => (text[..^1], 60),
            _ when text.EndsWith('h') || text.EndsWith('H') => (text[..^1], 3600),
            _ => (text, 1),
        };
        if (double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out double amount) && double.IsFinite(amount)
            && amount * scale is > 0 and < 31_536_000)
        {
            value = TimeSpan.FromSeconds(amount * scale);
            return true;
        }

        return text.Contains(':', StringComparison.Ordinal) && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value);
    }

    private static KmsProtocolVersion? ParseProtocol(ArgumentResult result, bool allowAuto)
    {
        var text = result.Tokens.Count > 0 ? result.Tokens[0].Value.Trim() : string.Empty;
        if (allowAuto && text.Equals("auto", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var digits = text.TrimStart('v', 'V');
        if (digits.EndsWith(".0", StringComparison.Ordinal))
        {
            digits = digits[..^2];
        }

        if (int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int major) && major is 4 or 5 or 6)
        {
            return (KmsProtocolVersion)major;
        }

        result.AddError($"--protocol: '{text}' is not a KMS protocol version; use {(allowAuto ? "auto, " : string.Empty)}4, 5 or 6.");
        return null;
    }
}
