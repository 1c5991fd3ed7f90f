namespace KmsFarm.Node.Connections;

/// <summary>Why admission control turned a connection or a request away. Each has a bounded tag (<see cref="AdmissionRefusals.Tags"/>):
/// the <c>reason</c> of <c>kms.admission.refusals</c>, the <c>error.type</c> of <c>kms.rpc.connections.rejected</c> for
/// those at accept, and the words of the Warning summaries.</summary>
public enum AdmissionRefusal
{
    /// <summary>The source address is not allowed (<c>--allow</c>/<c>--deny</c>); closed at accept.</summary>
    AccessDenied,

    /// <summary>The node's connection cap (<c>--max-connections</c>) is reached; closed at accept.</summary>
    ConnectionLimit,

    /// <summary>The source's connection limit (<c>--max-connections-per-source</c>) is reached; closed at accept.</summary>
    PerSourceLimit,

    /// <summary>No RPC bind completed within <c>--handshake-timeout</c>; the connection is closed.</summary>
    HandshakeTimeout,

    /// <summary>The connection reached <c>--connection-lifetime</c>; closed between requests.</summary>
    Lifetime,

    /// <summary>A request over the source's rate (<c>--request-rate</c>, <c>--request-burst</c>); answered with the RPC
    /// fault nca_server_too_busy, the connection stays open.</summary>
    RateLimited,
}

/// <summary>Tags of <see cref="AdmissionRefusal"/>.</summary>
public static class AdmissionRefusals
{
    /// <summary>The tag of each refusal, indexed by its value.</summary>
    public static IReadOnlyList<string> Tags { get; } =
        ["access_denied", "connection_limit", "per_source_limit", "handshake_timeout", "lifetime", "rate_limited"];

    public static int Count => Tags.Count;

    public static string Tag(this AdmissionRefusal refusal) => Tags[(int)refusal];

    /// <summary>Whether the refusal closes a connection at accept, before any byte is read.</summary>
    public static bool IsAtAccept(this AdmissionRefusal refusal) =>
        refusal is AdmissionRefusal.AccessDenied or AdmissionRefusal.ConnectionLimit or AdmissionRefusal.PerSourceLimit;
}
