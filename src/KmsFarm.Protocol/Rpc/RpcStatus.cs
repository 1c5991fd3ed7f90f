namespace KmsFarm.Protocol.Rpc;

/// <summary>What <see cref="RpcServerSession.Process"/> did with the buffer.</summary>
public enum RpcStatus
{
    /// <summary>No complete PDU in the buffer; nothing consumed.</summary>
    NeedMoreData,

    /// <summary>One PDU consumed; any reply (bind_ack, alter_context_resp, fault) was written to the output.</summary>
    Consumed,

    /// <summary>One PDU consumed and it completed a KMS request: answer it with WriteResponse or WriteFailure.</summary>
    Call,

    /// <summary>The peer broke the protocol; the connection must be closed (after flushing any output).</summary>
    Close,
}
