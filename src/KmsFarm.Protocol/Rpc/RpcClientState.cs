namespace KmsFarm.Protocol.Rpc;

/// <summary>Where an <see cref="RpcClientSession"/> stands.</summary>
public enum RpcClientState
{
    /// <summary>Nothing sent yet: call <see cref="RpcClientSession.WriteBind"/>.</summary>
    Initial,

    /// <summary>The bind was written: pass the next PDU to <see cref="RpcClientSession.HandleBindReply"/>.</summary>
    AwaitingBindAck,

    /// <summary>The server refused NDR32 and accepted NDR64, and an alter_context for NDR32 was written: pass the next
    /// PDU to <see cref="RpcClientSession.HandleAlterContextReply"/>.</summary>
    AwaitingAlterContextResponse,

    /// <summary>Ready for <see cref="RpcClientSession.WriteRequest"/>.</summary>
    Bound,

    /// <summary>A request was written: pass the next PDU to <see cref="RpcClientSession.ReadResponse"/>.</summary>
    AwaitingResponse,

    /// <summary>The server broke the protocol; close the connection.</summary>
    Failed,
}
