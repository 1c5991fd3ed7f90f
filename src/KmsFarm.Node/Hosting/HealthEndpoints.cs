using System.Globalization;
using KmsFarm.Node.Connections;
using KmsFarm.Node.Runtime;

namespace KmsFarm.Node.Hosting;

/// <summary>/healthz/live (the process runs) and /healthz/ready (serving: identity loaded, the silo active in its
/// cluster, a free KMS connection slot, and the store answers), each answered within 2 s with the reason when not ready
/// (<see cref="StoreReadinessProbe"/>). While start-up waits for the database, <see cref="StartupHealthServer"/> answers
/// these on the same endpoint.</summary>
public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapKmsFarmHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/healthz/live", () => Results.Text("live\n"));
        endpoints.MapGet("/healthz/ready", (Delegate)ReadyAsync);
        return endpoints;
    }

    private static async Task<IResult> ReadyAsync(HttpContext context)
    {
        var runtime = context.RequestServices.GetRequiredService<NodeRuntime>();
        if (runtime.StoreOrNull is not { } store)
        {
            return NotReady("identity not loaded");
        }

        if (!runtime.IsServing)
        {
            return NotReady("silo not started, or node stopping");
        }

        var membership = context.RequestServices.GetRequiredService<IClusterMembershipService>();
        var self = context.RequestServices.GetRequiredService<ILocalSiloDetails>().SiloAddress;
        if (membership.CurrentSnapshot.GetSiloStatus(self) != SiloStatus.Active)
        {
            return NotReady("silo is " + membership.CurrentSnapshot.GetSiloStatus(self) + " in its cluster");
        }

        // A node whose connection cap is taken refuses every new client: it says so, and a load balancer sends them elsewhere.
        var admission = context.RequestServices.GetRequiredService<ConnectionAdmission>();
        if (admission.IsFull)
        {
            return NotReady(string.Create(CultureInfo.InvariantCulture,
                $"KMS connection cap reached ({admission.ActiveConnections} of {admission.MaxConnections} open)"));
        }

        var probe = context.RequestServices.GetRequiredService<StoreReadinessProbe>();
        return await probe.CheckAsync(store, context.RequestAborted).ConfigureAwait(false) is { } reason ? NotReady(reason) : Results.Text("ready\n");
    }

    private static IResult NotReady(string reason) => Results.Text("not ready: " + reason + "\n", statusCode: StatusCodes.Status503ServiceUnavailable);
}
