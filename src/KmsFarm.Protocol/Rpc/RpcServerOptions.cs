namespace KmsFarm.Protocol.Rpc;

/// <summary>Per-node RPC behaviour.</summary>
public sealed class RpcServerOptions
{
    /// <summary>Default of <see cref="MaxRequestStubLength"/>.</summary>
    public const int DefaultMaxRequestStubLength = 1024;

    /// <summary>Default of <see cref="MaxFragmentLength"/> (the fragment size Windows and vlmcs negotiate).</summary>
    public const int DefaultMaxFragmentLength = 5840;

    /// <summary>Smallest accepted <see cref="MaxFragmentLength"/>: a bind offering NDR32, NDR64 and BTFN is 160 bytes, a
    /// V6 NDR64 request 300.</summary>
    public const int MinMaxFragmentLength = 512;

    /// <summary>Accept NDR64 (and refuse NDR32 in a bind that offers both), as a Windows 8+ host does. Must match the
    /// host build claimed in the ePID. Default true.</summary>
    public bool Ndr64Enabled { get; init; } = true;

    /// <summary>Answer bind-time feature negotiation. Default true.</summary>
    public bool BtfnEnabled { get; init; } = true;

    /// <summary>Hard bound on the reassembled stub of a (possibly fragmented) request, in bytes, NDR sizes included; a
    /// larger request closes the connection. Default 1024 (a V6 NDR64 stub is 276). Range 64..65536.</summary>
    public int MaxRequestStubLength { get; init; } = DefaultMaxRequestStubLength;

    /// <summary>Hard bound on a single PDU (frag_length), in bytes; checked on the header before buffering, a larger PDU
    /// closes the connection. Default 5840. Range 512..65535.</summary>
    public int MaxFragmentLength { get; init; } = DefaultMaxFragmentLength;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming the setting when a value is out of range.</summary>
    public void Validate()
    {
        if (MaxFragmentLength is < MinMaxFragmentLength or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxFragmentLength), MaxFragmentLength,
                "MaxFragmentLength must be between 512 and 65535 bytes.");
        }

        if (MaxRequestStubLength is < 64 or > 65536)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRequestStubLength), MaxRequestStubLength,
                "MaxRequestStubLength must be between 64 and 65536 bytes.");
        }
    }
}
