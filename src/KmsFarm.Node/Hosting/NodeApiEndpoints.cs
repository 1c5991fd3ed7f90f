using System.Text.Json;
using System.Text.Json.Serialization;
using KmsFarm.Node.Runtime;

namespace KmsFarm.Node.Hosting;

/// <summary>The read-only status API on the HTTP endpoint. So far: <c>GET /api/nodes</c>, the farm's silos.</summary>
public static class NodeApiEndpoints
{
    /// <summary>How long /api/nodes waits for the cluster's membership.</summary>
    public static readonly TimeSpan MembershipTimeout = TimeSpan.FromSeconds(3);

    public static IEndpointRouteBuilder MapKmsFarmApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/nodes", (Delegate)ListNodesAsync);
        return endpoints;
    }

    /// <summary>Every silo the farm's Orleans membership table lists (dead ones too, until Orleans cleans them up), ordered
    /// by name then start time: <c>[{"name","address","hostName","status","started","lastIAmAlive"}]</c>; status is
    /// Orleans' SiloStatus (Joining, Active, ShuttingDown, Stopping, Dead); times in ISO 8601 UTC.</summary>
    private static async Task<IResult> ListNodesAsync(HttpContext context)
    {
        var runtime = context.RequestServices.GetRequiredService<NodeRuntime>();
        if (!runtime.IsServing)
        {
            return Unavailable("node not serving");
        }

        var management = context.RequestServices.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0);
        MembershipEntry[] entries;
        try
        {
            entries = await management.GetDetailedHosts(onlyActive: false).WaitAsync(MembershipTimeout, context.RequestAborted).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return Unavailable("membership did not answer in time");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Unavailable("membership error: " + ex.GetType().Name);
        }

        var views = entries
            .Select(e => new NodeView(
                e.SiloName,
                e.SiloAddress.Endpoint.ToString(),
                e.HostName,
                e.Status.ToString(),
                new DateTimeOffset(DateTime.SpecifyKind(e.StartTime, DateTimeKind.Utc)),
                new DateTimeOffset(DateTime.SpecifyKind(e.IAmAliveTime, DateTimeKind.Utc))))
            .OrderBy(v => v.Name, StringComparer.Ordinal).ThenBy(v => v.Started)
            .ToArray();
        return Results.Json(views, NodeApiJson.Default.NodeViewArray);
    }

    private static IResult Unavailable(string reason) =>
        Results.Text("unavailable: " + reason + "\n", statusCode: StatusCodes.Status503ServiceUnavailable);
}

/// <summary>One entry of <c>/api/nodes</c>: a silo of the farm's membership.</summary>
public sealed record NodeView(string Name, string Address, string HostName, string Status, DateTimeOffset Started, DateTimeOffset LastIAmAlive);

/// <summary>Source-generated JSON of the status API (camelCase, as web APIs are).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(NodeView[]))]
internal sealed partial class NodeApiJson : JsonSerializerContext;
