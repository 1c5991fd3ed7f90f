using System.Text.Json;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>One entry of a node's <c>GET /api/nodes</c> (a silo of the farm's Orleans membership), read from the JSON as
/// an operator's script would.</summary>
internal sealed record ListedNode(string Name, string Address, string HostName, string Status, DateTimeOffset Started, DateTimeOffset LastIAmAlive)
{
    public static async Task<IReadOnlyList<ListedNode>> GetAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var json = JsonDocument.Parse(await http.GetStringAsync("/api/nodes", cancellationToken));
        return json.RootElement.EnumerateArray().Select(e => new ListedNode(
            e.GetProperty("name").GetString()!,
            e.GetProperty("address").GetString()!,
            e.GetProperty("hostName").GetString()!,
            e.GetProperty("status").GetString()!,
            e.GetProperty("started").GetDateTimeOffset(),
            e.GetProperty("lastIAmAlive").GetDateTimeOffset())).ToList();
    }
}
