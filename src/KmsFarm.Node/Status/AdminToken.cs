using System.Security.Cryptography;
using System.Text;
using KmsFarm.Node.Configuration;

namespace KmsFarm.Node.Status;

/// <summary>The optional admin token (<c>--admin-token-file</c>). Only hashes are kept: a presented token is hashed and
/// compared with <see cref="CryptographicOperations.FixedTimeEquals"/>, so neither its length nor its first differing byte
/// shows in the time an answer takes. The status page's login cookie holds an HMAC of a fixed label under the token,
/// never the token itself.</summary>
public sealed class AdminToken
{
    private static readonly byte[] CookieLabel = "kmsfarm status page"u8.ToArray();

    private readonly byte[]? _tokenHash;
    private readonly byte[]? _cookieValue;

    private AdminToken(string? token)
    {
        if (token is not null)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(token);
            _tokenHash = SHA256.HashData(bytes);
            _cookieValue = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(HMACSHA256.HashData(bytes, CookieLabel)));
        }
    }

    public static AdminToken None { get; } = new(null);

    /// <summary>True when a token is configured.</summary>
    public bool IsRequired => _tokenHash is not null;

    /// <summary>The cookie value that stands for the token on the status page.</summary>
    internal string CookieValue => _cookieValue is null ? string.Empty : Encoding.ASCII.GetString(_cookieValue);

    /// <summary>Reads the token file named by <see cref="ApiOptions.AdminTokenFile"/>; throws
    /// <see cref="NodeConfigurationException"/> naming the setting when it cannot be read or is empty.</summary>
    public static AdminToken Load(ApiOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (string.IsNullOrEmpty(options.AdminTokenFile))
        {
            return None;
        }

        const string setting = ApiOptions.SectionName + ":AdminTokenFile (--admin-token-file)";
        string text;
        try
        {
            text = File.ReadAllText(options.AdminTokenFile).Trim();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new NodeConfigurationException($"{setting} '{options.AdminTokenFile}' cannot be read: {ex.Message}");
        }

        return text.Length > 0 ? new AdminToken(text) : throw new NodeConfigurationException($"{setting} '{options.AdminTokenFile}' is empty.");
    }

    /// <summary>True when <paramref name="presented"/> is the token (constant time in the token's content).</summary>
    public bool Matches(string? presented) =>
        _tokenHash is not null && presented is not null
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _tokenHash);

    /// <summary>True when <paramref name="cookie"/> is the status page's login cookie (constant time).</summary>
    public bool MatchesCookie(string? cookie) =>
        _cookieValue is not null && cookie is not null
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.ASCII.GetBytes(cookie)), SHA256.HashData(_cookieValue));
}
