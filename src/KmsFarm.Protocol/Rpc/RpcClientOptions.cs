namespace KmsFarm.Protocol.Rpc;

/// <summary>What an <see cref="RpcClientSession"/> offers in its bind. The defaults imitate a Windows 8+ client (and
/// vlmcs): NDR32 + NDR64 + bind-time feature negotiation, CONC_MPX set.</summary>
public sealed class RpcClientOptions
{
    /// <summary>Default of <see cref="MaxFragmentLength"/>.</summary>
    public const ushort DefaultMaxFragmentLength = 5840;

    /// <summary>Offer NDR64 as presentation context 1 (default true). When the server accepts it, the second and later
    /// requests of the connection use NDR64.</summary>
    public bool OfferNdr64 { get; init; } = true;

    /// <summary>Offer bind-time feature negotiation (bits 0x0003) as the last context (default true).</summary>
    public bool OfferBtfn { get; init; } = true;

    /// <summary>Set CONC_MPX in the bind and alter_context (default true); the bind_ack must echo it.</summary>
    public bool Multiplex { get; init; } = true;

    /// <summary>max_xmit_frag and max_recv_frag offered in the bind (default 5840). Use the same value as the frame limit
    /// when reading replies with <see cref="RpcFrameScanner"/>.</summary>
    public ushort MaxFragmentLength { get; init; } = DefaultMaxFragmentLength;
}
