using System.Buffers;

namespace KmsFarm.Protocol.Rpc;

/// <summary>The server side of one DCE/RPC connection: a pure state machine with no I/O.</summary>
public sealed class RpcServerSession
{
    public RpcServerSession(RpcServerOptions options, uint associationGroupId, ushort localPort) => throw new NotImplementedException();

    /// <summary>Why the session asked to close, for logs and metrics (null while open).</summary>
    public string? CloseReason => throw new NotImplementedException();

    /// <summary>Consumes at most one PDU from the front of <paramref name="buffer"/> (advancing it) and writes any RPC-level
    /// reply to <paramref name="output"/>.</summary>
    public RpcStatus Process(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output, out RpcCall call) =>
        throw new NotImplementedException();

    /// <summary>Writes the response PDU carrying <paramref name="kmsResponse"/> and return value 0.</summary>
    public void WriteResponse(in RpcCall call, ReadOnlySpan<byte> kmsResponse, IBufferWriter<byte> output) =>
        throw new NotImplementedException();

    /// <summary>Writes a response PDU with a NULL response pointer and <paramref name="hresult"/> as return value.</summary>
    public void WriteFailure(in RpcCall call, uint hresult, IBufferWriter<byte> output) => throw new NotImplementedException();
}
