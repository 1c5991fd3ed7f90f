namespace KmsFarm.Protocol.Rpc;

/// <summary>A complete RequestActivation call. <see cref="Payload"/> is the KMS request byte array; it is owned by the
/// session and valid until the next call to Process. Answer it with <see cref="RpcServerSession.WriteResponse"/> or
/// <see cref="RpcServerSession.WriteFailure"/>.</summary>
/// <param name="CallId">The request's call_id, echoed in the response.</param>
/// <param name="ContextId">The presentation context (p_cont_id) the request named.</param>
/// <param name="IsNdr64">Whether that context was bound to NDR64 (else NDR32); selects the response stub encoding.</param>
/// <param name="Payload">The KMS request bytes, as many as the NDR size declared.</param>
public readonly record struct RpcCall(uint CallId, ushort ContextId, bool IsNdr64, ReadOnlyMemory<byte> Payload);
