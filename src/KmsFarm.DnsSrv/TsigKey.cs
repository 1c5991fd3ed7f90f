using ARSoft.Tools.Net.Dns;

namespace KmsFarm.DnsSrv;

/// <summary>A TSIG key (RFC 8945): its name, HMAC algorithm and shared secret. <see cref="ToString"/> never shows the
/// secret, so the key may be logged.</summary>
public sealed class TsigKey
{
    /// <summary>The algorithms accepted, by their BIND names; HMAC-MD5 and HMAC-SHA1 are refused as too weak.</summary>
    public static readonly IReadOnlyList<string> SupportedAlgorithms = ["hmac-sha256", "hmac-sha384", "hmac-sha512", "hmac-sha224"];

    private readonly byte[] _secret;

    /// <param name="algorithm">One of <see cref="SupportedAlgorithms"/>.</param>
    public TsigKey(string name, string algorithm, ReadOnlySpan<byte> secret)
    {
        if (!DnsNames.IsValidHostName(name, out _) && !IsLooseKeyName(name))
        {
            throw new ArgumentException($"'{name}' is not a TSIG key name.", nameof(name));
        }

        Algorithm = algorithm.ToLowerInvariant();
        WireAlgorithm = Algorithm switch
        {
            "hmac-sha256" => TSigAlgorithm.Sha256,
            "hmac-sha384" => TSigAlgorithm.Sha384,
            "hmac-sha512" => TSigAlgorithm.Sha512,
            "hmac-sha224" => TSigAlgorithm.Sha224,
            _ => throw new ArgumentException($"TSIG algorithm '{algorithm}' is not supported; use {string.Join(", ", SupportedAlgorithms)}.", nameof(algorithm)),
        };
        if (secret.IsEmpty)
        {
            throw new ArgumentException("A TSIG secret must not be empty.", nameof(secret));
        }

        Name = name.TrimEnd('.');
        _secret = secret.ToArray();
    }

    public string Name { get; }

    /// <summary>BIND's name of the algorithm, e.g. <c>hmac-sha256</c>.</summary>
    public string Algorithm { get; }

    internal TSigAlgorithm WireAlgorithm { get; }

    /// <summary>A copy for the DNS library, which keeps the array it is given.</summary>
    internal byte[] CopySecret() => (byte[])_secret.Clone();

    public override string ToString() => $"{Name} ({Algorithm})";

    /// <summary>Key names are domain names; BIND also allows underscores in them (tsig-keygen's default
    /// <c>tsig-key</c> is fine either way).</summary>
    private static bool IsLooseKeyName(string name) =>
        name.Length is > 0 and <= 253
        && name.TrimEnd('.').Split('.').All(l => l.Length is > 0 and <= 63 && l.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));
}
