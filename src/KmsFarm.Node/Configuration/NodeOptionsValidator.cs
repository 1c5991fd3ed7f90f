using System.Globalization;
using KmsFarm.Node.Access;
using KmsFarm.Node.Storage;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Configuration;

/// <summary>Start-up checks for the node's settings. Every message names the configuration key and its flag, so the
/// operator knows what to fix wherever the value came from.</summary>
public sealed class NodeOptionsValidator :
    IValidateOptions<KmsListenerOptions>, IValidateOptions<AccessControlOptions>, IValidateOptions<StoreOptions>, IValidateOptions<NodeOptions>,
    IValidateOptions<FarmClusterOptions>
{
    public ValidateOptionsResult Validate(string? name, KmsListenerOptions options) => Result(Check(options));

    public ValidateOptionsResult Validate(string? name, AccessControlOptions options) => Result(Check(options));

    public ValidateOptionsResult Validate(string? name, StoreOptions options) => Result(Check(options));

    public ValidateOptionsResult Validate(string? name, NodeOptions options) => Result(Check(options));

    public ValidateOptionsResult Validate(string? name, FarmClusterOptions options) => Result(Check(options));

    public static IEnumerable<string> Check(KmsListenerOptions options)
    {
        var endpoints = options.EffectiveKmsEndpoints;
        for (int i = 0; i < endpoints.Count; i++)
        {
            if (!EndPointParser.TryParse(endpoints[i], out _, out string? error))
            {
                yield return $"{KmsListenerOptions.SectionName}:KmsEndpoints:{I(i)} (--kms-endpoint) {error}.";
            }
        }

        if (!EndPointParser.TryParse(options.HttpEndpoint, out _, out string? httpError))
        {
            yield return $"{KmsListenerOptions.SectionName}:HttpEndpoint (--http-endpoint) {httpError}.";
        }

        if (options.MaxConnections is < 1 or > 1_000_000)
        {
            yield return $"{KmsListenerOptions.SectionName}:MaxConnections (--max-connections) is {I(options.MaxConnections)}; expected 1..1000000.";
        }

        if (options.IdleTimeout < KmsListenerOptions.MinIdleTimeout || options.IdleTimeout > KmsListenerOptions.MaxIdleTimeout)
        {
            yield return $"{KmsListenerOptions.SectionName}:IdleTimeout (--idle-timeout) is {options.IdleTimeout.ToString("c", CultureInfo.InvariantCulture)}; expected 1 to 600 seconds.";
        }

        if (options.MaxConnectionsPerSource is < 1 or > 1_000_000)
        {
            yield return $"{KmsListenerOptions.SectionName}:MaxConnectionsPerSource (--max-connections-per-source) is {I(options.MaxConnectionsPerSource)}; expected 1..1000000.";
        }

        if (options.HandshakeTimeout < KmsListenerOptions.MinIdleTimeout || options.HandshakeTimeout > KmsListenerOptions.MaxIdleTimeout)
        {
            yield return $"{KmsListenerOptions.SectionName}:HandshakeTimeout (--handshake-timeout) is {options.HandshakeTimeout.ToString("c", CultureInfo.InvariantCulture)}; expected 1 to 600 seconds.";
        }

        if (options.ConnectionLifetime < KmsListenerOptions.MinIdleTimeout || options.ConnectionLifetime > KmsListenerOptions.MaxConnectionLifetime)
        {
            yield return $"{KmsListenerOptions.SectionName}:ConnectionLifetime (--connection-lifetime) is {options.ConnectionLifetime.ToString("c", CultureInfo.InvariantCulture)}; expected 1 second to 24 hours.";
        }

        if (!double.IsFinite(options.RequestRate) || options.RequestRate is < 0 or > 1_000_000)
        {
            yield return $"{KmsListenerOptions.SectionName}:RequestRate (--request-rate) is {options.RequestRate.ToString(CultureInfo.InvariantCulture)}; expected 0 (off) to 1000000 requests per second.";
        }

        if (options.RequestBurst is < 1 or > 1_000_000)
        {
            yield return $"{KmsListenerOptions.SectionName}:RequestBurst (--request-burst) is {I(options.RequestBurst)}; expected 1..1000000.";
        }

        if (options.MaxFragmentLength is < 1024 or > 65535)
        {
            yield return $"{KmsListenerOptions.SectionName}:MaxFragmentLength (--max-fragment-length) is {I(options.MaxFragmentLength)}; expected 1024..65535.";
        }
    }

    public static IEnumerable<string> Check(AccessControlOptions options)
    {
        foreach (string failure in CheckList(options.EffectiveAllow, "Allow", "--allow"))
        {
            yield return failure;
        }

        foreach (string failure in CheckList(options.Deny, "Deny", "--deny"))
        {
            yield return failure;
        }
    }

    public static IEnumerable<string> Check(StoreOptions options)
    {
        if (!StoreLocation.TryParse(options.Location, out var location, out string? error))
        {
            yield return $"{StoreOptions.SectionName}:Location (--store) {error}.";
        }
        else if (location.Kind == StoreKind.Postgres && CheckConnectionString(location.Target) is { } connectionError)
        {
            yield return $"{StoreOptions.SectionName}:Location (--store) postgres: {connectionError}";
        }
        else if (location.Kind == StoreKind.Sqlite && Path.GetDirectoryName(location.Target) is { Length: > 0 } directory && !Directory.Exists(directory))
        {
            // Never created here: a mistyped path would start a new, empty farm with a new identity.
            yield return $"{StoreOptions.SectionName}:Location (--store) sqlite: the directory {directory} does not exist; create it, or correct the path.";
        }
        else if (location.Kind == StoreKind.Sqlite && Directory.Exists(location.Target))
        {
            yield return $"{StoreOptions.SectionName}:Location (--store) sqlite: {location.Target} is a directory; name the database file in it.";
        }

        if (options.HistoryRetention != TimeSpan.Zero && (options.HistoryRetention < TimeSpan.FromDays(1) || options.HistoryRetention > TimeSpan.FromDays(36500)))
        {
            yield return $"{StoreOptions.SectionName}:HistoryRetention (--history-retention) is {options.HistoryRetention.ToString("c", CultureInfo.InvariantCulture)}; expected 0 (keep for ever) or 1 to 36500 days.";
        }

        if (options.HistoryPurgeInterval < TimeSpan.FromSeconds(1) || options.HistoryPurgeInterval > TimeSpan.FromDays(30))
        {
            yield return $"{StoreOptions.SectionName}:HistoryPurgeInterval (--history-purge-interval) is {options.HistoryPurgeInterval.ToString("c", CultureInfo.InvariantCulture)}; expected 1 second to 30 days.";
        }

        if (!Enum.IsDefined(options.Durability))
        {
            yield return $"{StoreOptions.SectionName}:Durability (--durability) is {options.Durability}; expected process or fsync.";
        }
    }

    public static IEnumerable<string> Check(FarmClusterOptions options)
    {
        const string section = FarmClusterOptions.SectionName;
        if (string.IsNullOrEmpty(options.ClusterId) || options.ClusterId.Length > 64
            || !options.ClusterId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
        {
            yield return $"{section}:ClusterId (--cluster-id) '{options.ClusterId}' must be 1..64 letters, digits, '.', '-' or '_'.";
        }

        if (options.SiloPort is < 1 or > 65535)
        {
            yield return $"{section}:SiloPort (--silo-port) is {I(options.SiloPort)}; expected 1..65535.";
        }

        if (options.GatewayPort is int gateway && (gateway is < 1 or > 65535 || gateway == options.SiloPort))
        {
            yield return $"{section}:GatewayPort (--gateway-port) is {I(gateway)}; expected 1..65535 and not the silo port.";
        }

        if (options.AdvertisedAddress is { Length: > 0 } address
            && (!System.Net.IPAddress.TryParse(address, out var ip) || ip.Equals(System.Net.IPAddress.Any) || ip.Equals(System.Net.IPAddress.IPv6Any)))
        {
            yield return $"{section}:AdvertisedAddress (--advertised-address) '{address}' is not a unicast IP address other silos can reach.";
        }
    }

    public static IEnumerable<string> Check(NodeOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Name) || options.Name.Length > 128)
        {
            yield return $"{NodeOptions.SectionName}:Name (--node-name) must be 1..128 characters.";
        }

        if (options.CatalogPath is { Length: > 0 } path && !File.Exists(path))
        {
            yield return $"{NodeOptions.SectionName}:CatalogPath (--catalog) '{path}' does not exist.";
        }
    }

    /// <summary>Null when Npgsql accepts the connection string (or URL); else why not.</summary>
    private static string? CheckConnectionString(string connectionString)
    {
        try
        {
            _ = KmsFarm.Storage.Postgres.PostgresConnectionString.Normalize(connectionString);
            return null;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException or KeyNotFoundException)
        {
            return "is not a valid connection string: " + ex.Message;
        }
    }

    private static IEnumerable<string> CheckList(IReadOnlyList<string> entries, string key, string flag)
    {
        for (int i = 0; i < entries.Count; i++)
        {
            if (!IpAccessList.TryParseCidr(entries[i], out _, out string? error))
            {
                yield return $"{AccessControlOptions.SectionName}:{key}:{I(i)} ({flag}) {error}.";
            }
        }
    }

    private static ValidateOptionsResult Result(IEnumerable<string> failures)
    {
        var list = failures.ToList();
        return list.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(list);
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);
}
