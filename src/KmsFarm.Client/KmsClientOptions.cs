namespace KmsFarm.Client;

/// <summary>How a <see cref="KmsClientConnection"/> binds and how long it waits. The defaults imitate a Windows 8+ client
/// (and <c>vlmcs</c>): offer NDR32, NDR64 and bind-time feature negotiation, with concurrent multiplexing.</summary>
public sealed class KmsClientOptions
{
    /// <summary>Default TCP connect timeout: 5 s.</summary>
    public static readonly TimeSpan DefaultConnectTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Default wait for any one reply from the host: 10 s.</summary>
    public static readonly TimeSpan DefaultReceiveTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Offer the NDR64 transfer syntax in the bind (vlmcs <c>-N</c>). Default true.</summary>
    public bool OfferNdr64 { get; init; } = true;

    /// <summary>Offer bind-time feature negotiation (vlmcs <c>-B</c>). Default true.</summary>
    public bool OfferBtfn { get; init; } = true;

    /// <summary>Set PFC_CONC_MPX in the bind (vlmcs <c>-p</c> clears it). Default true.</summary>
    public bool Multiplex { get; init; } = true;

    public TimeSpan ConnectTimeout { get; init; } = DefaultConnectTimeout;

    /// <summary>How long to wait for each reply (bind_ack, alter_context_resp, response).</summary>
    public TimeSpan ReceiveTimeout { get; init; } = DefaultReceiveTimeout;

    /// <summary>Largest PDU accepted from the host; anything longer is a protocol error (KMS replies are at most ~330
    /// bytes). Default 5840, the fragment size a Windows client offers.</summary>
    public int MaxFragmentLength { get; init; } = 5840;

    /// <summary>Local address to connect from (e.g. 127.0.0.2 to be another source on loopback); null lets the system
    /// choose. Only host addresses of its family are tried.</summary>
    public System.Net.IPAddress? LocalAddress { get; init; }

    public static KmsClientOptions Default { get; } = new();
}
