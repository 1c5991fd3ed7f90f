using System.Text.Json;

namespace KmsFarm.TestKit;

/// <summary>The exchanges recorded between the reference client and server (tests/vectors, see its README.txt).</summary>
public static class RecordedVectors
{
    private static readonly Lazy<string> DirectoryPath = new(FindDirectory);

    public static string Directory => DirectoryPath.Value;

    /// <summary>Names (file names without .json) of the recorded conversations, raw edge cases excluded.</summary>
    public static IReadOnlyList<string> Names =>
        System.IO.Directory.GetFiles(Directory, "*.json").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToArray()!;

    /// <summary>Names of the hand-crafted edge cases in tests/vectors/raw.</summary>
    public static IReadOnlyList<string> RawNames =>
        System.IO.Directory.GetFiles(Path.Combine(Directory, "raw"), "*.json").Select(Path.GetFileNameWithoutExtension).Order(StringComparer.Ordinal).ToArray()!;

    public static RecordedVector Load(string name) => new(name, Parse(Path.Combine(Directory, name + ".json")));

    public static IEnumerable<RecordedVector> All() => Names.Select(Load);

    /// <summary>A raw vector: its messages as (direction, bytes or null when the server closed without a reply).</summary>
    public static IReadOnlyList<RecordedPdu> LoadRaw(string name)
    {
        var root = Parse(Path.Combine(Directory, "raw", name + ".json"));
        return root.GetProperty("messages").EnumerateArray().Select((m, i) => RecordedPdu.From(m, i + 1)).ToArray();
    }

    private static JsonElement Parse(string path)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
        return doc.RootElement.Clone();
    }

    private static string FindDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "vectors");
            if (System.IO.Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/vectors not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>One recorded conversation file.</summary>
public sealed class RecordedVector(string name, JsonElement root)
{
    public string Name { get; } = name;

    public JsonElement Root { get; } = root;

    public IReadOnlyList<RecordedConnection> Connections { get; } =
        root.GetProperty("connections").EnumerateArray().Select(c => new RecordedConnection(c)).ToArray();

    public override string ToString() => Name;
}

/// <summary>One TCP connection of a recorded conversation.</summary>
public sealed class RecordedConnection(JsonElement json)
{
    public JsonElement Json { get; } = json;

    /// <summary>Every PDU in order, both directions.</summary>
    public IReadOnlyList<RecordedPdu> Messages { get; } =
        json.GetProperty("messages").EnumerateArray().Select((m, i) => RecordedPdu.From(m, i + 1)).ToArray();

    /// <summary>The decoded KMS request/response pairs (see README.txt for the fields).</summary>
    public IReadOnlyList<JsonElement> KmsExchanges { get; } =
        json.TryGetProperty("kms_exchanges", out var x) ? x.EnumerateArray().ToArray() : [];

    public IEnumerable<RecordedPdu> ClientToServer => Messages.Where(m => m.FromClient);

    public IEnumerable<RecordedPdu> ServerToClient => Messages.Where(m => !m.FromClient);
}

/// <summary>One PDU on the wire. <see cref="Bytes"/> is null for a recorded "server closed without reply".</summary>
public sealed record RecordedPdu(int Seq, bool FromClient, byte[]? Bytes, JsonElement Json)
{
    public static RecordedPdu From(JsonElement m, int index)
    {
        int seq = m.TryGetProperty("seq", out var s) ? s.GetInt32() : index;
        bool fromClient = m.GetProperty("dir").GetString() == "c2s";
        byte[]? bytes = m.TryGetProperty("hex", out var h) ? Convert.FromHexString(h.GetString()!) : null;
        return new RecordedPdu(seq, fromClient, bytes, m);
    }
}
