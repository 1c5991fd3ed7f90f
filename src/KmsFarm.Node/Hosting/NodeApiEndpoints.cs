using System.Text.Json;
using System.Text.Json.Serialization;
using KmsFarm.Activation;
using KmsFarm.Node.Runtime;

namespace KmsFarm.Node.Hosting;

/// <summary>The read-only status API on the HTTP endpoint. So far: <c>GET /api/nodes</c>, the node registry.</summary>
public static class NodeApiEndpoints
{
    /// <summary>How long /api/nodes waits for the store.</summary>
    public static readonly TimeSpan StoreTimeout = TimeSpan.FromSeconds(3);

    public static IEndpointRouteBuilder MapKmsFarmApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/api/nodes", (Delegate)ListNodesAsync);
        return endpoints;
    }

    /// <summary>Every node the store has seen, ordered by name:
    /// <c>[{"name","endpoints":[…],"version","started","lastHeartbeat","gone"}]</c>, times in ISO 8601 UTC.</summary>
    private static async Task<IResult> ListNodesAsync(HttpContext context)
    {
        var runtime = context.RequestServices.GetRequiredService<NodeRuntime>();
        if (!runtime.IsLoaded)
        {
            return Unavailable("node not started");
        }

        if (runtime.RegistryOrNull is not { } registry)
        {
            return Results.Text("the store keeps no node registry\n", statusCode: StatusCodes.Status501NotImplemented);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        timeout.CancelAfter(StoreTimeout);
        IReadOnlyList<NodeStatus> nodes;
        try
        {
            nodes = await registry.ListAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!context.RequestAborted.IsCancellationRequested)
        {
            return Unavailable("store did not answer in time");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return Unavailable("store error: " + ex.GetType().Name);
        }

        var views = nodes.Select(n => new NodeView(
            n.Name, n.Endpoints, n.Version, n.Started.ToUniversalTime(), n.LastHeartbeat.ToUniversalTime(), n.IsGone)).ToArray();
        return Results.Json(views, NodeApiJson.Default.NodeViewArray);
    }

    private static IResult Unavailable(string reason) =>
        Results.Text("unavailable: " + reason + "\n", statusCode: StatusCodes.Status503ServiceUnavailable);
}

/// <summary>One entry of <c>/api/nodes</c>.</summary>
public sealed record NodeView(
    string Name, IReadOnlyList<string> Endpoints, string Version, DateTimeOffset Started, DateTimeOffset LastHeartbeat, bool Gone);

/// <summary>Source-generated JSON of the status API (camelCase, as web APIs are).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(NodeView[]))]
internal sealed partial class NodeApiJson : JsonSerializerContext;
