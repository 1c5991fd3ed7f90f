using System.Text.Json;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Fuzz;

/// <summary>Builds each target's seed inputs from the recorded exchanges in tests/vectors (see its README.txt), so the
/// fuzzer starts from conversations that reach a decoded call and a verified response.</summary>
internal static class SeedCorpus
{
    public static void Write(string vectorsDirectory, string outputDirectory)
    {
        var server = Directory.CreateDirectory(Path.Combine(outputDirectory, "server"));
        var kms = Directory.CreateDirectory(Path.Combine(outputDirectory, "kms"));
        var client = Directory.CreateDirectory(Path.Combine(outputDirectory, "client"));
        int chunking = 2;

        foreach (string file in Directory.GetFiles(vectorsDirectory, "*.json").Order(StringComparer.Ordinal))
        {
            string name = Path.GetFileNameWithoutExtension(file);
            using var document = JsonDocument.Parse(File.ReadAllBytes(file));
            var root = document.RootElement;
            var messages = root.GetProperty("connections")[0].GetProperty("messages").EnumerateArray().ToArray();
            string serverCommand = root.GetProperty("server_command").GetString()!;
            string clientCommand = root.GetProperty("client_command").GetString()!;

            // server: options as the recording server ran, the client's bytes, a different chunking per vector.
            byte serverOptions = (byte)((serverCommand.Contains("-N0", StringComparison.Ordinal) ? 1 : 0)
                | (serverCommand.Contains("-B0", StringComparison.Ordinal) ? 2 : 0));
            byte[] clientBytes = Concat(messages.Where(FromClient).Select(Bytes));
            File.WriteAllBytes(Path.Combine(server.FullName, name), [serverOptions, (byte)chunking, .. clientBytes]);
            chunking = (chunking * 7) % 251;

            var requests = messages.Where(m => FromClient(m) && Body(m, "kms_request_hex") is not null).Select(m => Body(m, "kms_request_hex")!).ToArray();
            var responses = messages.Where(m => !FromClient(m) && Body(m, "kms_response_hex") is not null).Select(m => Body(m, "kms_response_hex")!).ToArray();
            for (int i = 0; i < requests.Length; i++)
            {
                byte[] request = requests[i];
                File.WriteAllBytes(Path.Combine(kms.FullName, $"{name}-wire-{i}"), [0, .. request]);
                if (KmsServerCodec.DecodeRequest(request, out var decoded) != KmsHResults.Success)
                {
                    continue;
                }

                byte version = (byte)((int)decoded.Version - 4);
                byte[] plain = new byte[KmsRequest.Size];
                decoded.Request.WriteTo(plain);
                File.WriteAllBytes(Path.Combine(kms.FullName, $"{name}-plain-{i}"), [1, version, .. plain]);
                if (i < responses.Length)
                {
                    File.WriteAllBytes(Path.Combine(kms.FullName, $"{name}-response-{i}"), [2, version, .. request, .. responses[i]]);
                }
            }

            // client: options as the recording client ran, its first request, the server's bytes.
            if (requests.Length > 0 && requests[0].Length is KmsServerCodec.V4RequestLength or KmsServerCodec.EncryptedRequestLength)
            {
                byte clientOptions = (byte)((requests[0].Length == KmsServerCodec.V4RequestLength ? 1 : 0)
                    | (clientCommand.Contains("-N0", StringComparison.Ordinal) ? 4 : 0)
                    | (clientCommand.Contains("-B0", StringComparison.Ordinal) ? 8 : 0));
                byte[] serverBytes = Concat(messages.Where(m => !FromClient(m)).Select(Bytes));
                File.WriteAllBytes(Path.Combine(client.FullName, name), [clientOptions, .. requests[0], .. serverBytes]);
            }
        }

        // The hand-made edge cases: the client's bytes to a default server.
        foreach (string file in Directory.GetFiles(Path.Combine(vectorsDirectory, "raw"), "*.json").Order(StringComparer.Ordinal))
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(file));
            var messages = document.RootElement.GetProperty("messages").EnumerateArray().ToArray();
            byte[] clientBytes = Concat(messages.Where(FromClient).Select(Bytes));
            File.WriteAllBytes(Path.Combine(server.FullName, Path.GetFileNameWithoutExtension(file)), [0, 0, .. clientBytes]);
        }
    }

    private static bool FromClient(JsonElement message) => message.GetProperty("dir").GetString() == "c2s";

    private static byte[] Bytes(JsonElement message) =>
        message.TryGetProperty("hex", out var hex) ? Convert.FromHexString(hex.GetString()!) : [];

    private static byte[]? Body(JsonElement message, string field) =>
        message.TryGetProperty("body", out var body) && body.TryGetProperty(field, out var hex) && hex.ValueKind == JsonValueKind.String
            ? Convert.FromHexString(hex.GetString()!)
            : null;

    private static byte[] Concat(IEnumerable<byte[]> parts) => parts.SelectMany(p => p).ToArray();
}
