using System.Diagnostics.CodeAnalysis;

namespace KmsFarm.DnsSrv;

/// <summary>The name KMS discovery uses, and the host-name rules for what is published.</summary>
public static class DnsNames
{
    /// <summary>The SRV owner-name prefix of KMS (RFC 2782 <c>_Service._Proto</c>): clients look up <c>_vlmcs._tcp.DOMAIN</c>.</summary>
    public const string KmsServicePrefix = "_vlmcs._tcp.";

    private const int MaxNameLength = 253;

    private const int MaxLabelLength = 63;

    /// <summary><c>_vlmcs._tcp.</c> + the domain, normalised.</summary>
    public static string KmsServiceName(string domain) => KmsServicePrefix + Normalize(domain);

    /// <summary>Lower case, without the trailing dot (DNS names compare case-insensitively).</summary>
    public static string Normalize(string name) => name.Trim().TrimEnd('.').ToLowerInvariant();

    /// <summary>A host or domain name of letters, digits and hyphens (RFC 1123): labels of 1 to 63 characters that
    /// neither start nor end with a hyphen, at most 253 characters, an optional trailing dot.</summary>
    public static bool IsValidHostName([NotNullWhen(true)] string? name, [NotNullWhen(false)] out string? error)
    {
        string text = name?.Trim().TrimEnd('.') ?? string.Empty;
        if (text.Length == 0)
        {
            error = "is empty; expected a DNS name such as lab.example";
            return false;
        }

        if (text.Length > MaxNameLength)
        {
            error = $"'{text}' is longer than {MaxNameLength} characters";
            return false;
        }

        foreach (string label in text.Split('.'))
        {
            if (label.Length is 0 or > MaxLabelLength)
            {
                error = $"'{text}' has an empty label or one longer than {MaxLabelLength} characters";
                return false;
            }

            if (label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
            {
                error = $"'{text}' has label '{label}'; use letters, digits and inner hyphens only";
                return false;
            }
        }

        error = null;
        return true;
    }
}
