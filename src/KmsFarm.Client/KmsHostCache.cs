using System.Text.Json;

namespace KmsFarm.Client;

/// <summary>What a client remembers between runs, in a JSON file: the KMS host it activated with, per DNS domain or host
/// list (what a Windows client keeps in its registry: the KMS machine name and port, to use that host first next time
/// and look further only when it does not answer), and the hosts that did not answer with their backoff
/// (<see cref="HostBackoff"/>). A missing or unreadable file is an empty cache.</summary>
public sealed class KmsHostCache
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly string _path;
    private readonly Dictionary<string, Entry> _kept;

    private KmsHostCache(string path, Dictionary<string, Entry> kept, HostBackoff backoff)
    {
        _path = path;
        _kept = kept;
        Backoff = backoff;
    }

    /// <summary>The hosts that did not answer, as read from the file; record outcomes here, then <see cref="Save"/>.</summary>
    public HostBackoff Backoff { get; }

    public static KmsHostCache Load(string path, TimeProvider? time = null)
    {
        CacheFile? file = null;
        try
        {
            file = JsonSerializer.Deserialize<CacheFile>(File.ReadAllText(path), JsonOptions);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            // A cache: start afresh.
        }

        var backoff = new HostBackoff(time);
        backoff.Import(file?.Backoff?.Select(p => new HostBackoffEntry(p.Key, p.Value.Failures, p.Value.RetryAt)) ?? []);
        return new KmsHostCache(path, new Dictionary<string, Entry>(file?.Kept ?? [], StringComparer.OrdinalIgnoreCase), backoff);
    }

    /// <summary>The key of a <c>--host</c> list: the hosts in the order given.</summary>
    public static string ListKey(IEnumerable<HostEndpoint> hosts) => "hosts:" + string.Join(',', hosts);

    /// <summary>The cached host of <paramref name="key"/> (a DNS domain or <see cref="ListKey"/>), or null.</summary>
    public KmsHostCandidate? Get(string key) =>
        _kept.TryGetValue(Key(key), out var entry) && HostEndpoint.TryParse(entry.Host, out var host, out _)
            ? new KmsHostCandidate(host.ToString(), entry.Addresses is { Count: > 0 } addresses
                ? addresses.Select(a => new HostEndpoint(a, host.Port)).ToArray()
                : [host])
            : null;

    /// <summary>Records <paramref name="host"/> as the host that answered for <paramref name="key"/>.</summary>
    public void Keep(string key, KmsHostCandidate host) =>
        _kept[Key(key)] = new Entry(host.Name, host.Endpoints.Select(e => e.Host).ToList());

    /// <summary>Writes the file: the kept hosts and the current backoff.</summary>
    public void Save()
    {
        string? directory = Path.GetDirectoryName(Path.GetFullPath(_path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        var file = new CacheFile(_kept, Backoff.Export().ToDictionary(e => e.Host, e => new BackoffEntry(e.Failures, e.RetryAt)));
        string temporary = _path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(file, JsonOptions));
        File.Move(temporary, _path, overwrite: true);
    }

    private static string Key(string key) => key.Trim().TrimEnd('.').ToLowerInvariant();

    private sealed record CacheFile(Dictionary<string, Entry>? Kept, Dictionary<string, BackoffEntry>? Backoff);

    /// <param name="Host">The host as <c>target:port</c>.</param>
    /// <param name="Addresses">The addresses it was reached at.</param>
    private sealed record Entry(string Host, List<string>? Addresses);

    private sealed record BackoffEntry(int Failures, DateTimeOffset RetryAt);
}
