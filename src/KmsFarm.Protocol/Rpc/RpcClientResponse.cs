namespace KmsFarm.Protocol.Rpc;

/// <summary>The outcome of one RequestActivation call as read by <see cref="RpcClientSession.ReadResponse"/>.</summary>
/// <param name="ReturnValue">The HRESULT returned by the host: 0 on success, else the KMS error (e.g. 0x8007000D).</param>
/// <param name="KmsResponse">The KMS response bytes on success (a copy the caller owns); empty on failure.</param>
public readonly record struct RpcClientResponse(uint ReturnValue, ReadOnlyMemory<byte> KmsResponse)
{
    /// <summary>Whether the host answered with return value 0 and a response.</summary>
    public bool IsSuccess => ReturnValue == 0;
}
