namespace KmsFarm.Protocol.Rpc;

/// <summary>Per-node RPC behaviour.</summary>
public sealed class RpcServerOptions
{
    /// <summary>Accept NDR64 (and refuse NDR32 in a bind that offers both), as a Windows 8+ host does. Must match the
    /// host build claimed in the ePID.</summary>
    public bool Ndr64Enabled { get; init; } = true;

    /// <summary>Answer bind-time feature negotiation.</summary>
    public bool BtfnEnabled { get; init; } = true;

    /// <summary>Hard bound on the reassembled stub of a fragmented request, in bytes.</summary>
    public int MaxRequestStubLength { get; init; } = 1024;

    /// <summary>Hard bound on a single PDU (frag_length), in bytes.</summary>
    public int MaxFragmentLength { get; init; } = 5840;
}
