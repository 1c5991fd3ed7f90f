namespace KmsFarm.Protocol.Rpc;

/// <summary>pfc_flags (header byte 3).</summary>
[Flags]
public enum RpcPacketFlags : byte
{
    None = 0,
    FirstFragment = 0x01,
    LastFragment = 0x02,
    PendingCancel = 0x04,
    ConcurrentMultiplex = 0x10,
    DidNotExecute = 0x20,
    Maybe = 0x40,
    ObjectUuid = 0x80,

    /// <summary>FIRST_FRAG | LAST_FRAG: a PDU that is a whole message.</summary>
    FirstAndLast = FirstFragment | LastFragment,
}
