using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using KmsFarm.DnsSrv;

namespace KmsFarm.Node.Configuration;

/// <summary>One <c>--dns-publish</c> value: <c>DOMAIN</c> or <c>DOMAIN:PRIORITY:WEIGHT</c>.</summary>
public sealed record DnsPublishEntry(string Domain, ushort Priority, ushort Weight)
{
    public static bool TryParse(string? text, [NotNullWhen(true)] out DnsPublishEntry? entry, [NotNullWhen(false)] out string? error)
    {
        entry = null;
        string[] parts = (text ?? string.Empty).Trim().Split(':');
        if (parts.Length is not (1 or 3))
        {
            error = $"'{text}' is not DOMAIN or DOMAIN:PRIORITY:WEIGHT";
            return false;
        }

        if (!DnsNames.IsValidHostName(parts[0], out string? nameError))
        {
            error = "domain " + nameError;
            return false;
        }

        ushort priority = 0, weight = 0;
        if (parts.Length == 3 && (!ushort.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out priority)
            || !ushort.TryParse(parts[2], NumberStyles.None, CultureInfo.InvariantCulture, out weight)))
        {
            error = $"'{text}' has priority '{parts[1]}' and weight '{parts[2]}'; each must be 0..65535";
            return false;
        }

        entry = new DnsPublishEntry(DnsNames.Normalize(parts[0]), priority, weight);
        error = null;
        return true;
    }

    /// <summary>The SRV target in this entry's domain for the <c>HostName</c> setting (see
    /// <see cref="DnsPublishingOptions.HostName"/>).</summary>
    public string TargetFor(string? hostName)
    {
        string name = string.IsNullOrWhiteSpace(hostName) ? DefaultHostLabel : hostName.Trim();
        return name.TrimEnd('.').Contains('.', StringComparison.Ordinal) ? DnsNames.Normalize(name) : DnsNames.Normalize(name) + "." + Domain;
    }

    public static string DefaultHostLabel => Environment.MachineName.ToLowerInvariant();
}
