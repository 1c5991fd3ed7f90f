namespace KmsFarm.Node.Status;

/// <summary>Endpoint metadata: the endpoint answers only requests that present the admin token, when one is configured
/// (<see cref="AdminAccess"/>). Checked on the routed endpoint, so no spelling of a path gets around it.</summary>
public sealed class AdminOnly
{
    public static readonly AdminOnly Instance = new();

    private AdminOnly()
    {
    }
}
