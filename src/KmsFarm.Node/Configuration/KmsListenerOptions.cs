namespace KmsFarm.Node.Configuration;

/// <summary>Where and how the node listens. Section <c>KmsFarm:Listener</c>.</summary>
public sealed class KmsListenerOptions
{
    public const string SectionName = "KmsFarm:Listener";

    /// <summary>Both address families on the KMS port, as separate sockets (IPv6 is V6ONLY).</summary>
    public static readonly IReadOnlyList<string> DefaultKmsEndpoints = ["0.0.0.0:1688", "[::]:1688"];

    /// <summary>Health (and later metrics) stay on loopback unless the operator says otherwise.</summary>
    public const string DefaultHttpEndpoint = "127.0.0.1:8688";

    public const int DefaultMaxConnections = 1000;

    /// <summary>vlmcsd's default receive timeout.</summary>
    public static readonly TimeSpan DefaultIdleTimeout = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan MinIdleTimeout = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan MaxIdleTimeout = TimeSpan.FromSeconds(600);

    /// <summary>KMS endpoints, <c>HOST:PORT</c> (IPv6 in brackets). Empty means <see cref="DefaultKmsEndpoints"/>.
    /// A list rather than a default-initialised one because the configuration binder appends to existing items.</summary>
    public List<string> KmsEndpoints { get; set; } = [];

    /// <summary>The HTTP endpoint for /healthz/*. Default <see cref="DefaultHttpEndpoint"/>.</summary>
    public string HttpEndpoint { get; set; } = DefaultHttpEndpoint;

    /// <summary>Concurrent KMS connections; one more is closed at once, never queued. Default 1000.</summary>
    public int MaxConnections { get; set; } = DefaultMaxConnections;

    /// <summary>A connection that delivers no complete PDU for this long is closed. Default 30 s, range 1..600 s.</summary>
    public TimeSpan IdleTimeout { get; set; } = DefaultIdleTimeout;

    /// <summary>Hard bound on one RPC PDU (frag_length), in bytes. Default 5840 (the negotiated maximum).</summary>
    public int MaxFragmentLength { get; set; } = 5840;

    public IReadOnlyList<string> EffectiveKmsEndpoints => KmsEndpoints.Count == 0 ? DefaultKmsEndpoints : KmsEndpoints;
}
