namespace KmsFarm.Protocol.Rpc;

/// <summary>Status codes carried by fault PDUs.</summary>
public static class RpcFaultStatus
{
    /// <summary>nca_s_op_rng_error: the operation number is out of range (KMS has only opnum 0).</summary>
    public const uint OperationRangeError = 0x1C010002;

    /// <summary>nca_unk_if: the presentation context names no bound interface.</summary>
    public const uint UnknownInterface = 0x1C010003;

    /// <summary>nca_s_proto_error: the request stub does not decode.</summary>
    public const uint ProtocolError = 0x1C01000B;

    /// <summary>nca_server_too_busy: the server refuses the call for now (a Windows client reports RPC_S_SERVER_TOO_BUSY,
    /// 0x800706BB). A KmsFarm node answers it to a request over its source's request rate.</summary>
    public const uint ServerTooBusy = 0x1C010014;

    /// <summary>A readable name for <paramref name="status"/>, e.g. "nca_unk_if (0x1C010003)".</summary>
    public static string Describe(uint status)
    {
        string? name = status switch
        {
            OperationRangeError => "nca_s_op_rng_error",
            UnknownInterface => "nca_unk_if",
            ProtocolError => "nca_s_proto_error",
            ServerTooBusy => "nca_server_too_busy",
            0x00000005 => "access denied",
            0x000006F7 => "rpc_x_bad_stub_data",
            _ => null,
        };
        string hex = "0x" + status.ToString("X8", System.Globalization.CultureInfo.InvariantCulture);
        return name is null ? hex : name + " (" + hex + ")";
    }
}
