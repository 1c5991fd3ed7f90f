using System.Buffers;

namespace KmsFarm.Protocol.Rpc;

/// <summary>Finds PDU boundaries in a byte stream. Only the 16-byte header is read; the header is checked (version 5.0,
/// little-endian integers, auth_length 0, 16 ≤ frag_length ≤ the limit) before anything is buffered, so a peer cannot
/// make the caller wait for, or hold, more than the limit.</summary>
/// <example><code>
/// while (RpcFrameScanner.TryReadFrame(ref buffer, max, out var frame) == OperationStatus.Done) { ... }
/// </code></example>
public static class RpcFrameScanner
{
    /// <inheritdoc cref="TryReadFrame(ref ReadOnlySequence{byte}, int, out ReadOnlySequence{byte}, out RpcHeader, out string?)"/>
    public static OperationStatus TryReadFrame(ref ReadOnlySequence<byte> buffer, int maxFragmentLength, out ReadOnlySequence<byte> frame) =>
        TryReadFrame(ref buffer, maxFragmentLength, out frame, out _, out _);

    /// <summary>Takes one whole PDU off the front of <paramref name="buffer"/>.</summary>
    /// <returns><see cref="OperationStatus.Done"/>: <paramref name="frame"/> is the PDU and <paramref name="buffer"/> now starts
    /// after it. <see cref="OperationStatus.NeedMoreData"/>: the PDU is incomplete; nothing consumed.
    /// <see cref="OperationStatus.InvalidData"/>: the header is unacceptable (<paramref name="error"/> says why); nothing
    /// consumed, the connection should be closed.</returns>
    public static OperationStatus TryReadFrame(
        ref ReadOnlySequence<byte> buffer,
        int maxFragmentLength,
        out ReadOnlySequence<byte> frame,
        out RpcHeader header,
        out string? error)
    {
        frame = default;
        header = default;
        error = null;
        if (buffer.Length < RpcHeader.Length)
        {
            return OperationStatus.NeedMoreData;
        }

        Span<byte> copy = stackalloc byte[RpcHeader.Length];
        ReadOnlySpan<byte> first = buffer.FirstSpan;
        scoped ReadOnlySpan<byte> bytes;
        if (first.Length >= RpcHeader.Length)
        {
            bytes = first[..RpcHeader.Length];
        }
        else
        {
            buffer.Slice(0, RpcHeader.Length).CopyTo(copy);
            bytes = copy;
        }

        error = RpcHeader.Validate(bytes, maxFragmentLength);
        if (error is not null)
        {
            return OperationStatus.InvalidData;
        }

        header = RpcHeader.Read(bytes);
        if (buffer.Length < header.FragmentLength)
        {
            return OperationStatus.NeedMoreData;
        }

        frame = buffer.Slice(0, header.FragmentLength);
        buffer = buffer.Slice(frame.End);
        return OperationStatus.Done;
    }
}
