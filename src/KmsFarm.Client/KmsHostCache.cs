using System.Text.Json;

namespace KmsFarm.Client;

/// <summary>The KMS host a client activated with after finding it through DNS, per domain, kept in a JSON file: what a
/// Windows client keeps in its registry (the discovered KMS machine name and port) to use that host first next time and
/// ask DNS only when it does not answer. A missing or unreadable file is an empty cache.</summary>
public sealed class KmsHostCache
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private readonly string _path;
    private readonly Dictionary<string, Entry> _entries;

    private KmsHostCache(string path, Dictionary<string, Entry> entries)
    {
        _path = path;
        _entries = entries;
    }

    public static KmsHostCache Load(string path)
    {
        Dictionary<string, Entry>? entries = null;
        try
        {
            entries = JsonSerializer.Deserialize<Dictionary<string, Entry>>(File.ReadAllText(path), JsonOptions);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            // A cache: start afresh.
        }

        return new KmsHostCache(path, new Dictionary<string, Entry>(entries ?? [], StringComparer.OrdinalIgnoreCase));
    }

    /// <summary>The cached host of <paramref name="domain"/>, or null.</summary>
    public KmsHostCandidate? Get(string domain) =>
        _entries.TryGetValue(Key(domain), out var entry) && HostEndpoint.TryParse(entry.Host, out var host, out _)
            ? new KmsHostCandidate(host.ToString(), entry.Addresses is { Count: > 0 } addresses
                ? addresses.Select(a => new HostEndpoint(a, host.Port)).ToArray()
                : [host])
            : null;

    /// <summary>Records <paramref name="host"/> as the host that answered for <paramref name="domain"/> and writes the file.</summary>
    public void Save(string domain, KmsHostCandidate host)
    {
        _entries[Key(domain)] = new Entry(host.Name, host.Endpoints.Select(e => e.Host).ToList());
        string? directory = Path.GetDirectoryName(Path.GetFullPath(_path));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }

        string temporary = _path + ".tmp";
        File.WriteAllText(temporary, JsonSerializer.Serialize(_entries, JsonOptions));
        File.Move(temporary, _path, overwrite: true);
    }

    private static string Key(string domain) => domain.Trim().TrimEnd('.').ToLowerInvariant();

    /// <param name="Host">The discovered host as <c>target:port</c>.</param>
    /// <param name="Addresses">The addresses it was reached at.</param>
    private sealed record Entry(string Host, List<string>? Addresses);
}
