namespace KmsFarm.Protocol.Rpc;

/// <summary>The connection-oriented DCE/RPC PDU types (PTYPE, header byte 2) that KMS uses.</summary>
public enum RpcPacketType : byte
{
    Request = 0,
    Response = 2,
    Fault = 3,
    Bind = 11,
    BindAck = 12,
    BindNak = 13,
    AlterContext = 14,
    AlterContextResponse = 15,
}
