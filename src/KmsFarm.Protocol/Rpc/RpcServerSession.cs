using System.Buffers;
using System.Globalization;

namespace KmsFarm.Protocol.Rpc;

/// <summary>The server side of one DCE/RPC connection: a pure state machine with no I/O. Feed it the received bytes
/// with <see cref="Process"/> until it returns <see cref="RpcStatus.NeedMoreData"/>; flush the output; answer every
/// <see cref="RpcStatus.Call"/> before processing further; close on <see cref="RpcStatus.Close"/>. Not thread-safe.</summary>
public sealed partial class RpcServerSession
{
    /// <summary>How many presentation contexts one connection may bind (KMS clients bind two).</summary>
    public const int MaxContexts = 16;

    private readonly RpcServerOptions _options;
    private readonly uint _associationGroupId;
    private readonly ushort _localPort;
    private readonly ContextEntry[] _contexts = new ContextEntry[MaxContexts];
    private int _contextCount;
    private byte[]? _frameCopy;
    private string? _closeReason;

    /// <param name="options">RPC behaviour; validated here.</param>
    /// <param name="associationGroupId">assoc_group_id to put in every bind_ack (the host draws a random u32 per process
    /// and increments it per connection).</param>
    /// <param name="localPort">The accepting socket's local port, sent as the bind_ack's secondary address.</param>
    public RpcServerSession(RpcServerOptions options, uint associationGroupId, ushort localPort)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        _associationGroupId = associationGroupId;
        _localPort = localPort;
    }

    /// <summary>Why the session asked to close, for logs and metrics (null while open).</summary>
    public string? CloseReason => _closeReason;

    /// <summary>Whether at least one presentation context is bound.</summary>
    public bool IsBound => _contextCount > 0;

    /// <summary>Consumes at most one PDU from the front of <paramref name="buffer"/> (advancing it) and writes any RPC-level
    /// reply to <paramref name="output"/>. Never throws on peer input.</summary>
    public RpcStatus Process(ref ReadOnlySequence<byte> buffer, IBufferWriter<byte> output, out RpcCall call)
    {
        ArgumentNullException.ThrowIfNull(output);
        call = default;
        if (_closeReason is not null)
        {
            return RpcStatus.Close;
        }

        var scan = RpcFrameScanner.TryReadFrame(ref buffer, _options.MaxFragmentLength, out var frame, out var header, out var error);
        if (scan == OperationStatus.NeedMoreData)
        {
            return RpcStatus.NeedMoreData;
        }

        if (scan != OperationStatus.Done)
        {
            return Close(error ?? "invalid PDU header");
        }

        ReadOnlySpan<byte> pdu = frame.IsSingleSegment ? frame.FirstSpan : CopyFrame(frame);
        switch (header.PacketType)
        {
            case RpcPacketType.Request:
                return HandleRequest(header, pdu, output, out call);
            case RpcPacketType.Bind:
            case RpcPacketType.AlterContext:
                return HandleBind(header, pdu, output);
            default:
                return Close(string.Create(CultureInfo.InvariantCulture, $"unsupported PTYPE {(byte)header.PacketType}"));
        }
    }

    private ReadOnlySpan<byte> CopyFrame(in ReadOnlySequence<byte> frame)
    {
        _frameCopy ??= new byte[_options.MaxFragmentLength];
        Span<byte> copy = _frameCopy.AsSpan(0, (int)frame.Length);
        frame.CopyTo(copy);
        return copy;
    }

    private RpcStatus Close(string reason)
    {
        _closeReason = reason;
        _callInProgress = false;
        return RpcStatus.Close;
    }

    private bool TryFindContext(ushort id, out bool ndr64)
    {
        for (int i = 0; i < _contextCount; i++)
        {
            if (_contexts[i].Id == id)
            {
                ndr64 = _contexts[i].Syntax == RpcTransferSyntax.Ndr64;
                return true;
            }
        }

        ndr64 = false;
        return false;
    }

    /// <summary>Records (or replaces: the last binding of an id wins) a context; false when the table is full.</summary>
    private bool TryBindContext(ushort id, RpcTransferSyntax syntax)
    {
        for (int i = 0; i < _contextCount; i++)
        {
            if (_contexts[i].Id == id)
            {
                _contexts[i] = new ContextEntry(id, syntax);
                return true;
            }
        }

        if (_contextCount == _contexts.Length)
        {
            return false;
        }

        _contexts[_contextCount++] = new ContextEntry(id, syntax);
        return true;
    }

    private readonly record struct ContextEntry(ushort Id, RpcTransferSyntax Syntax);
}
