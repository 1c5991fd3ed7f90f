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

    /// <summary>Well below the global cap, so one address cannot take it, yet room for a site behind one NAT address: a
    /// Windows client holds one connection for a second or so per activation.</summary>
    public const int DefaultMaxConnectionsPerSource = 64;

    /// <summary>A KMS client binds in its first round trip; five seconds is generous even over a slow link.</summary>
    public static readonly TimeSpan DefaultHandshakeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>A KMS conversation lasts about a second; five minutes bounds a client that keeps a connection alive with
    /// a PDU every few seconds.</summary>
    public static readonly TimeSpan DefaultConnectionLifetime = TimeSpan.FromMinutes(5);

    public static readonly TimeSpan MaxConnectionLifetime = TimeSpan.FromHours(24);

    /// <summary>Requests per second per source address, sustained: far above what a site of Windows clients sends (a
    /// client activates every 2 hours until it is activated, then renews every 7 days), far below what one node serves.</summary>
    public const double DefaultRequestRate = 100;

    /// <summary>Requests a source may send at once before <see cref="DefaultRequestRate"/> applies: a lab of a thousand
    /// machines starting together.</summary>
    public const int DefaultRequestBurst = 1000;

    /// <summary>KMS endpoints, <c>HOST:PORT</c> (IPv6 in brackets). Empty means <see cref="DefaultKmsEndpoints"/>.
    /// A list rather than a default-initialised one because the configuration binder appends to existing items.</summary>
    public List<string> KmsEndpoints { get; set; } = [];

    /// <summary>The HTTP endpoint for /healthz/*. Default <see cref="DefaultHttpEndpoint"/>.</summary>
    public string HttpEndpoint { get; set; } = DefaultHttpEndpoint;

    /// <summary>Concurrent KMS connections; one more is closed at once, never queued. Default 1000.</summary>
    public int MaxConnections { get; set; } = DefaultMaxConnections;

    /// <summary>A connection that delivers no complete PDU for this long is closed. Default 30 s, range 1..600 s.</summary>
    public TimeSpan IdleTimeout { get; set; } = DefaultIdleTimeout;

    /// <summary>Concurrent KMS connections from one source address (IPv4 address, or IPv6 address); one more is closed at
    /// once. Default 64; the global <see cref="MaxConnections"/> applies as well.</summary>
    public int MaxConnectionsPerSource { get; set; } = DefaultMaxConnectionsPerSource;

    /// <summary>A connection that has not completed an RPC bind within this time of being accepted is closed. Default 5 s,
    /// range 1..600 s.</summary>
    public TimeSpan HandshakeTimeout { get; set; } = DefaultHandshakeTimeout;

    /// <summary>A connection is closed this long after it was accepted, between requests (a request in progress is
    /// answered first). Default 5 minutes, range 1 s..24 h.</summary>
    public TimeSpan ConnectionLifetime { get; set; } = DefaultConnectionLifetime;

    /// <summary>Activation requests per second each source address may send, sustained (a token bucket of
    /// <see cref="RequestBurst"/> tokens); a request over it is answered with the RPC fault nca_server_too_busy.
    /// Default 100; 0 turns the limit off.</summary>
    public double RequestRate { get; set; } = DefaultRequestRate;

    /// <summary>The token bucket's size: requests a source may send back to back. Default 1000.</summary>
    public int RequestBurst { get; set; } = DefaultRequestBurst;

    /// <summary>Hard bound on one RPC PDU (frag_length), in bytes. Default 5840 (the negotiated maximum).</summary>
    public int MaxFragmentLength { get; set; } = 5840;

    public IReadOnlyList<string> EffectiveKmsEndpoints => KmsEndpoints.Count == 0 ? DefaultKmsEndpoints : KmsEndpoints;
}
