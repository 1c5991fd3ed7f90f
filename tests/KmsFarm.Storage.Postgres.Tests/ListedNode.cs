using System.Text.Json;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>One entry of a node's <c>GET /api/nodes</c>, read from the JSON as an operator's script would.</summary>
internal sealed record ListedNode(string Name, string[] Endpoints, string Version, DateTimeOffset Started, DateTimeOffset LastHeartbeat, bool Gone)
{
    public static async Task<IReadOnlyList<ListedNode>> GetAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync("/api/nodes", cancellationToken));
        return json.RootElement.EnumerateArray().Select(e => new ListedNode(
            e.GetProperty("name").GetString()!,
            e.GetProperty("endpoints").EnumerateArray().Select(x => x.GetString()!).ToArray(),
            e.GetProperty("version").GetString()!,
            e.GetProperty("started").GetDateTimeOffset(),
            e.GetProperty("lastHeartbeat").GetDateTimeOffset(),
            e.GetProperty("gone").GetBoolean())).ToList();
    }
}
