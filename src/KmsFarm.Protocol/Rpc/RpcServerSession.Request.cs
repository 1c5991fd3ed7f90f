using System.Buffers;
using System.Globalization;

namespace KmsFarm.Protocol.Rpc;

/// <summary>request → <see cref="RpcCall"/> (with fragment reassembly), faults, and the response writers.</summary>
public sealed partial class RpcServerSession
{
    private byte[]? _stub;
    private int _stubLength;
    private bool _callInProgress;
    private uint _callId;
    private ushort _callContextId;
    private ushort _callOpnum;
    private bool _answerPending;
    private uint _answerCallId;

    private RpcStatus HandleRequest(RpcHeader header, ReadOnlySpan<byte> pdu, IBufferWriter<byte> output, out RpcCall call)
    {
        call = default;
        var reader = new RpcReader(pdu[RpcHeader.Length..]);
        if (!reader.TryReadUInt32(out _) || !reader.TryReadUInt16(out ushort contextId) || !reader.TryReadUInt16(out ushort opnum)
            || ((header.Flags & RpcPacketFlags.ObjectUuid) != 0 && !reader.TrySkip(16)))
        {
            return Close("truncated request");
        }

        reader.TryReadBytes(reader.Remaining, out var fragmentStub);
        bool first = (header.Flags & RpcPacketFlags.FirstFragment) != 0;
        bool last = (header.Flags & RpcPacketFlags.LastFragment) != 0;
        if (first)
        {
            if (_callInProgress)
            {
                return Close("a new request began before the last fragment of the previous one");
            }

            _callId = header.CallId;
            _callContextId = contextId;
            _callOpnum = opnum;
            _stubLength = 0;
        }
        else if (!_callInProgress)
        {
            return Close("a request fragment arrived without a first fragment");
        }
        else if (header.CallId != _callId || contextId != _callContextId || opnum != _callOpnum)
        {
            return Close("a request fragment does not continue the call in progress");
        }

        if (fragmentStub.Length > _options.MaxRequestStubLength - _stubLength)
        {
            return Close(string.Create(CultureInfo.InvariantCulture,
                $"request stub exceeds the limit of {_options.MaxRequestStubLength} bytes"));
        }

        _stub ??= new byte[_options.MaxRequestStubLength];
        fragmentStub.CopyTo(_stub.AsSpan(_stubLength));
        _stubLength += fragmentStub.Length;
        _callInProgress = !last;
        if (!last)
        {
            return RpcStatus.Consumed;
        }

        if (!TryFindContext(_callContextId, out bool ndr64))
        {
            RpcStub.WriteFault(output, _callId, 0, RpcFaultStatus.UnknownInterface);
            return RpcStatus.Consumed;
        }

        if (_callOpnum != 0)
        {
            RpcStub.WriteFault(output, _callId, _callContextId, RpcFaultStatus.OperationRangeError);
            return RpcStatus.Consumed;
        }

        if (RpcStub.TryReadRequestStub(_stub.AsSpan(0, _stubLength), ndr64, out int offset, out int length) is not null)
        {
            RpcStub.WriteFault(output, _callId, _callContextId, RpcFaultStatus.ProtocolError);
            return RpcStatus.Consumed;
        }

        call = new RpcCall(_callId, _callContextId, ndr64, _stub.AsMemory(offset, length));
        _answerPending = true;
        _answerCallId = _callId;
        return RpcStatus.Call;
    }

    /// <summary>Writes the response PDU carrying <paramref name="kmsResponse"/> and return value 0 (stub: size, referent
    /// 0x00020000, max_count, bytes, zero pad to 4, return value; 32-bit fields in NDR32, 64-bit in NDR64). Responses
    /// are never fragmented (a KMS response is at most a few hundred bytes).</summary>
    public void WriteResponse(in RpcCall call, ReadOnlySpan<byte> kmsResponse, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        EndAnswer(call);
        RpcStub.WriteResponse(output, call.CallId, call.ContextId, call.IsNdr64, kmsResponse);
    }

    /// <summary>Writes a response PDU with a NULL response pointer and <paramref name="hresult"/> as return value.</summary>
    public void WriteFailure(in RpcCall call, uint hresult, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        EndAnswer(call);
        RpcStub.WriteFailure(output, call.CallId, call.ContextId, call.IsNdr64, hresult);
    }

    /// <summary>Answers <paramref name="call"/> with a fault PDU (did-not-execute) carrying <paramref name="status"/>, e.g.
    /// <see cref="RpcFaultStatus.ServerTooBusy"/>. The association stays bound.</summary>
    public void WriteFault(in RpcCall call, uint status, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        EndAnswer(call);
        RpcStub.WriteFault(output, call.CallId, call.ContextId, status);
    }

    /// <summary>Each call returned by Process is answered exactly once.</summary>
    private void EndAnswer(in RpcCall call)
    {
        if (!_answerPending || call.CallId != _answerCallId)
        {
            throw new InvalidOperationException("This call is not awaiting an answer from this session.");
        }

        _answerPending = false;
    }
}
