namespace KmsFarm.Protocol.Rpc;

/// <summary>A complete RequestActivation call. <see cref="Payload"/> is the KMS request byte array; it is owned by the
/// session and valid until the next call to Process.</summary>
public readonly record struct RpcCall(uint CallId, ushort ContextId, bool IsNdr64, ReadOnlyMemory<byte> Payload);
