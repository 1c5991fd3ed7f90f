using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using KmsFarm.Activation;
using KmsFarm.Node.Runtime;
using KmsFarm.Node.Status;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Node.Hosting;

/// <summary>The read-only status API on the HTTP endpoint: <c>GET /api/nodes</c> (the farm's silos), <c>/api/status</c>
/// (the farm as <c>slmgr /dlv</c> shows a host), <c>/api/clients</c> (the client inventory, paged) and
/// <c>/api/activations</c> (the history, paged, by time). Every route carries <see cref="AdminOnly"/>: with an admin token
/// configured, it answers only requests that present it (<see cref="AdminAccess"/>).</summary>
public static class NodeApiEndpoints
{
    /// <summary>How long /api/nodes waits for the cluster's membership.</summary>
    public static readonly TimeSpan MembershipTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The page size when <c>limit</c> is not given.</summary>
    public const int DefaultLimit = 50;

    public static IEndpointRouteBuilder MapKmsFarmApi(this IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api").WithMetadata(AdminOnly.Instance);
        api.MapGet("/nodes", (Delegate)ListNodesAsync);
        api.MapGet("/status", (Delegate)GetStatusAsync);
        api.MapGet("/clients", (Delegate)ListClientsAsync);
        api.MapGet("/activations", (Delegate)ListActivationsAsync);
        return endpoints;
    }

    /// <summary>Every silo the farm's Orleans membership table lists (dead ones too, until Orleans cleans them up), ordered
    /// by name then start time; or why the membership could not be read.</summary>
    internal static async Task<(NodeView[]? Nodes, string? Error)> ReadMembershipAsync(IGrainFactory grainFactory, CancellationToken cancellationToken)
    {
        var management = grainFactory.GetGrain<IManagementGrain>(0);
        MembershipEntry[] entries;
        try
        {
            entries = await management.GetDetailedHosts(onlyActive: false, cancellationToken).WaitAsync(MembershipTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return (null, "membership did not answer in time");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return (null, "membership error: " + ex.GetType().Name);
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
        return (views, null);
    }

    /// <summary><c>[{"name","address","hostName","status","started","lastIAmAlive"}]</c>; status is Orleans' SiloStatus
    /// (Joining, Active, ShuttingDown, Stopping, Dead); times in ISO 8601 UTC.</summary>
    private static async Task<IResult> ListNodesAsync(HttpContext context)
    {
        if (!context.RequestServices.GetRequiredService<NodeRuntime>().IsServing)
        {
            return Unavailable("node not serving");
        }

        var (nodes, error) = await ReadMembershipAsync(context.RequestServices.GetRequiredService<IGrainFactory>(), context.RequestAborted)
            .ConfigureAwait(false);
        return nodes is null ? Unavailable(error!) : Results.Json(nodes, NodeApiJson.Default.NodeViewArray);
    }

    private static async Task<IResult> GetStatusAsync(HttpContext context)
    {
        if (!context.RequestServices.GetRequiredService<NodeRuntime>().IsServing)
        {
            return Unavailable("node not serving");
        }

        try
        {
            var status = await context.RequestServices.GetRequiredService<FarmStatusReader>().ReadAsync(context.RequestAborted).ConfigureAwait(false);
            return Results.Json(status, NodeApiJson.Default.StatusView);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return StoreFailed(ex);
        }
    }

    /// <summary><c>?group=Windows&amp;machine=TEXT&amp;seenSince=ISO-TIME&amp;offset=0&amp;limit=50</c> (limit at most 500).</summary>
    private static async Task<IResult> ListClientsAsync(HttpContext context)
    {
        if (!context.RequestServices.GetRequiredService<NodeRuntime>().IsServing)
        {
            return Unavailable("node not serving");
        }

        var query = context.Request.Query;
        if (!TryGroup(query["group"], out var group, out var error)
            || !TryTime(query["seenSince"], "seenSince", out var since, out error)
            || !TryInt(query["offset"], "offset", 0, 0, int.MaxValue, out int offset, out error)
            || !TryInt(query["limit"], "limit", DefaultLimit, 0, ClientQuery.MaxLimit, out int limit, out error))
        {
            return Results.Text(error + "\n", statusCode: StatusCodes.Status400BadRequest);
        }

        string? machine = query["machine"].ToString() is { Length: > 0 } text ? text : null;
        ClientPageView? page;
        try
        {
            page = await context.RequestServices.GetRequiredService<FarmStatusReader>()
                .ReadClientsAsync(new ClientQuery(group, machine, since, offset, limit), context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return StoreFailed(ex);
        }

        return page is null ? Unavailable("the store keeps no client inventory") : Results.Json(page, NodeApiJson.Default.ClientPageView);
    }

    /// <summary><c>?from=ISO-TIME&amp;to=ISO-TIME&amp;group=Windows&amp;before=ID&amp;limit=50</c> (limit at most 500), newest
    /// first; the answer's <c>next</c> is the <c>before</c> of the next page.</summary>
    private static async Task<IResult> ListActivationsAsync(HttpContext context)
    {
        if (!context.RequestServices.GetRequiredService<NodeRuntime>().IsServing)
        {
            return Unavailable("node not serving");
        }

        var query = context.Request.Query;
        long? before = null;
        if (!TryGroup(query["group"], out var group, out var error)
            || !TryTime(query["from"], "from", out var from, out error)
            || !TryTime(query["to"], "to", out var to, out error)
            || !TryInt(query["limit"], "limit", DefaultLimit, 0, HistoryQuery.MaxLimit, out int limit, out error))
        {
            return Results.Text(error + "\n", statusCode: StatusCodes.Status400BadRequest);
        }

        if (query["before"].ToString() is { Length: > 0 } text)
        {
            if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long id))
            {
                return Results.Text("before must be a history id (the previous page's next)\n", statusCode: StatusCodes.Status400BadRequest);
            }

            before = id;
        }

        ActivationPageView? page;
        try
        {
            page = await context.RequestServices.GetRequiredService<FarmStatusReader>()
                .ReadActivationsAsync(new HistoryQuery(from, to, group, before, limit), context.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return StoreFailed(ex);
        }

        return page is null ? Unavailable("the store cannot page its history") : Results.Json(page, NodeApiJson.Default.ActivationPageView);
    }

    private static bool TryGroup(string? text, out ProductGroup? group, out string? error)
    {
        group = null;
        error = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        if (Enum.TryParse<ProductGroup>(text, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed) && !char.IsAsciiDigit(text[0]))
        {
            group = parsed;
            return true;
        }

        error = $"group '{text}' is not a product group; use one of {string.Join(", ", Enum.GetNames<ProductGroup>())}";
        return false;
    }

    private static bool TryTime(string? text, string name, out DateTimeOffset? time, out string? error)
    {
        time = null;
        error = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            time = parsed;
            return true;
        }

        error = $"{name} '{text}' is not a time; use ISO 8601, e.g. 2026-01-31T12:00:00Z";
        return false;
    }

    private static bool TryInt(string? text, string name, int fallback, int min, int max, out int value, out string? error)
    {
        value = fallback;
        error = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= min && value <= max)
        {
            return true;
        }

        error = $"{name} must be a whole number from {min} to {max}";
        return false;
    }

    /// <summary>The store (or the membership) failed: 503 naming the error's type, as /healthz/ready does.</summary>
    private static IResult StoreFailed(Exception ex) => Unavailable("store error: " + ex.GetType().Name);

    private static IResult Unavailable(string reason) =>
        Results.Text("unavailable: " + reason + "\n", statusCode: StatusCodes.Status503ServiceUnavailable);
}

/// <summary>One entry of <c>/api/nodes</c>: a silo of the farm's membership.</summary>
public sealed record NodeView(string Name, string Address, string HostName, string Status, DateTimeOffset Started, DateTimeOffset LastIAmAlive);

/// <summary>Source-generated JSON of the status API (camelCase, as web APIs are).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(NodeView[]))]
[JsonSerializable(typeof(StatusView))]
[JsonSerializable(typeof(ClientPageView))]
[JsonSerializable(typeof(ActivationPageView))]
internal sealed partial class NodeApiJson : JsonSerializerContext;
