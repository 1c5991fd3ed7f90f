namespace KmsFarm.Activation;

/// <summary>Where the nodes of a farm announce themselves, for the admin API and dashboards. Purely informational: no
/// node reads another node's entry to do its work, so a node that vanishes leaves nothing behind that the others need.</summary>
public interface INodeRegistry
{
    /// <summary>Adds or replaces the entry of <see cref="NodeRegistration.Name"/> and marks it alive now.</summary>
    ValueTask RegisterAsync(NodeRegistration registration, CancellationToken cancellationToken);

    /// <summary>Marks <paramref name="name"/> alive now. False when it is not registered (register it again).</summary>
    ValueTask<bool> HeartbeatAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every registered node, ordered by name.</summary>
    ValueTask<IReadOnlyList<NodeStatus>> ListAsync(CancellationToken cancellationToken);
}

/// <summary>What a node says about itself when it starts.</summary>
/// <param name="Name">Unique within the farm (the pod name in Kubernetes).</param>
/// <param name="Endpoints">Where it listens, e.g. <c>tcp://10.0.0.5:1688</c> and <c>http://10.0.0.5:8080</c>.</param>
/// <param name="Version">The build it runs.</param>
/// <param name="Started">When it started.</param>
public sealed record NodeRegistration(string Name, IReadOnlyList<string> Endpoints, string Version, DateTimeOffset Started);

/// <summary>A registered node as the registry sees it.</summary>
/// <param name="IsGone">The last heartbeat is older than the registry's threshold.</param>
public sealed record NodeStatus(
    string Name, IReadOnlyList<string> Endpoints, string Version, DateTimeOffset Started, DateTimeOffset LastHeartbeat, bool IsGone);
