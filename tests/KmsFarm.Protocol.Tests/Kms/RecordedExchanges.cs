using System.Text.Json;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;

namespace KmsFarm.Protocol.Tests.Kms;

/// <summary>One recorded KMS request/response pair: the raw payloads from the RPC bodies and the decoded JSON.</summary>
public sealed record RecordedExchange(string Id, byte[] Request, byte[]? Response, JsonElement Json)
{
    public int Protocol => Json.GetProperty("request").GetProperty("protocol").GetInt32();

    public JsonElement RequestJson => Json.GetProperty("request");

    public JsonElement RequestFields => RequestJson.GetProperty("fields");

    /// <summary>The decoded response, or null when the host answered with an HRESULT.</summary>
    public JsonElement? ResponseJson =>
        Json.GetProperty("response") is { ValueKind: JsonValueKind.Object } r ? r : null;

    public override string ToString() => Id;
}

public static class RecordedExchanges
{
    private static readonly Lazy<IReadOnlyDictionary<string, RecordedExchange>> Cache = new(LoadAll);

    public static IReadOnlyDictionary<string, RecordedExchange> ById => Cache.Value;

    public static RecordedExchange Get(string id) => ById[id];

    public static TheoryData<string> All() => Ids(_ => true);

    public static TheoryData<string> Answered() => Ids(x => x.Response is not null);

    public static TheoryData<string> Ids(Func<RecordedExchange, bool> filter)
    {
        var data = new TheoryData<string>();
        foreach (var exchange in ById.Values.Where(filter))
        {
            data.Add(exchange.Id);
        }

        return data;
    }

    private static Dictionary<string, RecordedExchange> LoadAll()
    {
        var result = new Dictionary<string, RecordedExchange>(StringComparer.Ordinal);
        foreach (var vector in RecordedVectors.All())
        {
            for (int c = 0; c < vector.Connections.Count; c++)
            {
                var connection = vector.Connections[c];
                var requests = connection.ClientToServer
                    .Where(m => m.Json.TryGetProperty("body", out var b) && b.TryGetProperty("kms_request_hex", out _))
                    .Select(m => Convert.FromHexString(m.Json.GetProperty("body").GetProperty("kms_request_hex").GetString()!))
                    .ToArray();
                var responses = connection.ServerToClient
                    .Where(m => m.Json.GetProperty("header").GetProperty("ptype").GetInt32() == 2)
                    .Select(m => m.Json.GetProperty("body").TryGetProperty("kms_response_hex", out var h) && h.GetString() is { Length: > 0 } hex
                        ? Convert.FromHexString(hex)
                        : null)
                    .ToArray();
                Assert.Equal(connection.KmsExchanges.Count, requests.Length);
                Assert.Equal(connection.KmsExchanges.Count, responses.Length);
                for (int i = 0; i < requests.Length; i++)
                {
                    string id = $"{vector.Name}#{c}.{i}";
                    result.Add(id, new RecordedExchange(id, requests[i], responses[i], connection.KmsExchanges[i]));
                }
            }
        }

        return result;
    }

    public static byte[] Hex(this JsonElement element, string property) => Convert.FromHexString(element.GetProperty(property).GetString()!);

    public static string Text(this JsonElement element, string property) => element.GetProperty(property).GetString()!;

    public static KmsResponseFields ResponseFields(RecordedExchange exchange)
    {
        var fields = exchange.ResponseJson!.Value.GetProperty("fields");
        var hwId = exchange.ResponseJson.Value.TryGetProperty("hwid_hex", out var h) ? HardwareId.Parse(h.GetString()!) : default;
        return new KmsResponseFields(
            fields.Text("epid"),
            fields.GetProperty("current_count").GetUInt32(),
            fields.GetProperty("activation_interval_min").GetUInt32(),
            fields.GetProperty("renewal_interval_min").GetUInt32(),
            hwId);
    }
}
