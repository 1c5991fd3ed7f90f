using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;

namespace KmsFarm.Protocol.Rpc;

/// <summary>Strict checks of the server's bind_ack, alter_context_resp and response PDUs.</summary>
public sealed partial class RpcClientSession
{
    private const ushort ResultAcceptance = 0;
    private const ushort ResultProviderRejection = 2;
    private const ushort ResultNegotiateAck = 3;

    /// <summary>Smallest fragment size every DCE/RPC implementation must accept (MustRecvFragSize).</summary>
    private const int MinNegotiatedFragment = 1432;

    /// <summary>Checks the reply to the bind. When the server refused NDR32 but accepted NDR64 (a Windows 8+ host), writes
    /// an alter_context asking for NDR32 on context 0 to <paramref name="output"/>.</summary>
    /// <returns><see cref="RpcClientState.Bound"/>, or <see cref="RpcClientState.AwaitingAlterContextResponse"/> when an
    /// alter_context was written and must be sent.</returns>
    /// <exception cref="Kms.KmsProtocolException">The reply is not a valid bind_ack for this bind (sizes, secondary
    /// address, result count, results, flags echo), or the server accepted neither NDR32 nor NDR64.</exception>
    public RpcClientState HandleBindReply(ReadOnlySpan<byte> pdu, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        RequireState(RpcClientState.AwaitingBindAck);
        var header = ReadHeader(pdu, RpcPacketType.BindAck, "bind_ack");
        if (header.CallId != BindCallId)
        {
            throw Fail(Format($"bind_ack call_id {header.CallId} does not echo the bind's {BindCallId}"));
        }

        var expectedMpx = Options.Multiplex ? RpcPacketFlags.ConcurrentMultiplex : RpcPacketFlags.None;
        if ((header.Flags & RpcPacketFlags.ConcurrentMultiplex) != expectedMpx)
        {
            throw Fail("bind_ack does not echo the bind's CONC_MPX flag");
        }

        var reader = ReadBindReplyPrefix(pdu, "bind_ack", _offeredContexts, isBind: true);
        bool ndr32 = false;
        bool ndr64 = false;
        for (ushort id = 0; id < _offeredContexts; id++)
        {
            ReadResult(ref reader, out ushort result, out ushort reason, out var syntax);
            string name = id == _ndr64ContextId ? "NDR64" : id == _btfnContextId ? "bind-time feature negotiation" : "NDR32";
            if (id == _btfnContextId)
            {
                if (result == ResultNegotiateAck)
                {
                    if ((reason & ~RequestedBtfnFeatures) != 0 || syntax.ContainsAnyExcept((byte)0))
                    {
                        throw Fail(Format($"bind_ack grants bind-time features 0x{reason:X4} that were not requested, or carries a syntax"));
                    }

                    BtfnFeatures = reason;
                    continue;
                }

                CheckRejection(result, reason, syntax, name);
                continue;
            }

            if (result == ResultAcceptance)
            {
                var expected = id == _ndr64ContextId ? RpcSyntaxIds.Ndr64 : RpcSyntaxIds.Ndr32;
                if (reason != 0 || !syntax.SequenceEqual(expected))
                {
                    throw Fail(Format($"bind_ack accepts context {id} ({name}) with a different transfer syntax or a reason"));
                }

                ndr64 |= id == _ndr64ContextId;
                ndr32 |= id == Ndr32ContextId;
                continue;
            }

            CheckRejection(result, reason, syntax, name);
        }

        Ndr64Negotiated = ndr64;
        Ndr32AcceptedInBind = ndr32;
        if (ndr32)
        {
            State = RpcClientState.Bound;
        }
        else if (ndr64)
        {
            WriteBindLike(output, RpcPacketType.AlterContext, contexts: 1);
            State = RpcClientState.AwaitingAlterContextResponse;
        }
        else
        {
            throw Fail("the server accepted neither NDR32 nor NDR64");
        }

        return State;
    }

    /// <summary>Checks the alter_context_resp: one result accepting NDR32 on context 0. Afterwards the session is bound.</summary>
    /// <exception cref="Kms.KmsProtocolException">The reply is not a valid alter_context_resp accepting NDR32.</exception>
    public void HandleAlterContextReply(ReadOnlySpan<byte> pdu)
    {
        RequireState(RpcClientState.AwaitingAlterContextResponse);
        var header = ReadHeader(pdu, RpcPacketType.AlterContextResponse, "alter_context_resp");
        if (header.CallId != BindCallId)
        {
            throw Fail(Format($"alter_context_resp call_id {header.CallId} does not echo the alter_context's {BindCallId}"));
        }

        var reader = ReadBindReplyPrefix(pdu, "alter_context_resp", 1, isBind: false);
        ReadResult(ref reader, out ushort result, out ushort reason, out var syntax);
        if (result != ResultAcceptance || reason != 0 || !syntax.SequenceEqual(RpcSyntaxIds.Ndr32))
        {
            throw Fail(Format($"alter_context_resp does not accept NDR32 (result {result}, reason {reason})"));
        }

        State = RpcClientState.Bound;
    }

    /// <summary>Checks the reply to the last request and returns the KMS response bytes (return value 0) or the HRESULT
    /// of a failure stub (NULL response pointer).</summary>
    /// <exception cref="Kms.KmsProtocolException">A fault PDU (the message names the status; the session stays bound), or
    /// a response that breaks the protocol: PTYPE, flags, call_id, p_cont_id, alloc_hint, NDR size/referent/max_count
    /// consistency, non-zero NDR padding, return value.</exception>
    public RpcClientResponse ReadResponse(ReadOnlySpan<byte> pdu)
    {
        RequireState(RpcClientState.AwaitingResponse);
        if (pdu.Length >= RpcStub.FaultPduLength && pdu[2] == (byte)RpcPacketType.Fault && RpcHeader.Validate(pdu, pdu.Length) is null)
        {
            uint status = BinaryPrimitives.ReadUInt32LittleEndian(pdu[24..]);
            uint faultCall = BinaryPrimitives.ReadUInt32LittleEndian(pdu[12..]);
            State = RpcClientState.Bound;
            throw new Kms.KmsProtocolException(Format(
                $"the server answered request call_id {_pendingCallId} with RPC fault {RpcFaultStatus.Describe(status)} (fault call_id {faultCall})"))
            {
                FaultStatus = status,
            };
        }

        var header = ReadHeader(pdu, RpcPacketType.Response, "response");
        if (header.Flags != RpcPacketFlags.FirstAndLast)
        {
            throw Fail(Format($"response flags 0x{(byte)header.Flags:X2} are not FIRST|LAST"));
        }

        if (header.CallId != _pendingCallId)
        {
            throw Fail(Format($"response call_id {header.CallId} does not echo the request's {_pendingCallId}"));
        }

        var reader = new RpcReader(pdu[RpcHeader.Length..]);
        if (!reader.TryReadUInt32(out uint allocHint) || !reader.TryReadUInt16(out ushort contextId)
            || !reader.TryReadByte(out byte cancelCount) || !reader.TrySkip(1))
        {
            throw Fail("truncated response");
        }

        if (contextId != _pendingContextId || cancelCount != 0)
        {
            throw Fail(Format($"response p_cont_id {contextId} / cancel_count {cancelCount} do not match the request"));
        }

        var stub = pdu[RpcStub.PduPrefixLength..];
        if (allocHint != (uint)stub.Length)
        {
            throw Fail(Format($"response alloc_hint {allocHint} differs from the stub length {stub.Length}"));
        }

        var response = ReadResponseStub(stub, _pendingNdr64);
        State = RpcClientState.Bound;
        return response;
    }

    private RpcClientResponse ReadResponseStub(ReadOnlySpan<byte> stub, bool ndr64)
    {
        var reader = new RpcReader(stub);
        if (!TryReadNdrSize(ref reader, ndr64, out ulong size) || !TryReadNdrSize(ref reader, ndr64, out ulong referent))
        {
            throw Fail("the response stub is too short");
        }

        if (referent == 0)
        {
            if (size != 0 || !reader.TryReadUInt32(out uint hresult) || reader.Remaining != 0)
            {
                throw Fail(Format($"the failure stub is malformed (size {size}, {stub.Length} bytes)"));
            }

            if (hresult == 0)
            {
                throw Fail("the server returned no response and return value 0");
            }

            return new RpcClientResponse(hresult, ReadOnlyMemory<byte>.Empty);
        }

        if (!TryReadNdrSize(ref reader, ndr64, out ulong maxCount) || maxCount != size)
        {
            throw Fail(Format($"response size {size} and NDR conformance differ"));
        }

        if (size > (ulong)reader.Remaining || !reader.TryReadBytes((int)size, out var data))
        {
            throw Fail(Format($"response size {size} exceeds the stub"));
        }

        if (!reader.TryAlign(4, out var padding) || padding.ContainsAnyExcept((byte)0))
        {
            throw Fail("the NDR padding after the response is not zero");
        }

        if (!reader.TryReadUInt32(out uint returnValue) || reader.Remaining != 0)
        {
            throw Fail("the response stub does not end with the return value");
        }

        if (returnValue != 0)
        {
            throw Fail(Format($"the server returned a response together with return value 0x{returnValue:X8}"));
        }

        return new RpcClientResponse(0, data.ToArray());
    }

    private static bool TryReadNdrSize(ref RpcReader reader, bool ndr64, out ulong value)
    {
        if (ndr64)
        {
            return reader.TryReadUInt64(out value);
        }

        bool ok = reader.TryReadUInt32(out uint small);
        value = small;
        return ok;
    }

    /// <summary>Common header checks: version, data representation, auth_length, frag_length equal to the PDU, PTYPE
    /// (a bind_nak or fault gets its own message).</summary>
    private RpcHeader ReadHeader(ReadOnlySpan<byte> pdu, RpcPacketType expected, string name)
    {
        if (pdu.Length < RpcHeader.Length)
        {
            throw Fail(Format($"{name} is shorter than the RPC header ({pdu.Length} bytes)"));
        }

        if (RpcHeader.Validate(pdu, Options.MaxFragmentLength) is { } error)
        {
            throw Fail(name + ": " + error);
        }

        var header = RpcHeader.Read(pdu);
        if (header.FragmentLength != pdu.Length)
        {
            throw Fail(Format($"{name} frag_length {header.FragmentLength} differs from the PDU length {pdu.Length}"));
        }

        if (header.PacketType == RpcPacketType.BindNak)
        {
            ushort reason = pdu.Length >= 18 ? BinaryPrimitives.ReadUInt16LittleEndian(pdu[16..]) : (ushort)0;
            throw Fail(Format($"the server rejected the bind (bind_nak, reason {reason})"));
        }

        if (header.PacketType == RpcPacketType.Fault && pdu.Length >= 28)
        {
            throw Fail(Format($"the server answered with RPC fault {RpcFaultStatus.Describe(BinaryPrimitives.ReadUInt32LittleEndian(pdu[24..]))}"));
        }

        if (header.PacketType != expected)
        {
            throw Fail(Format($"expected {name}, got PTYPE {(byte)header.PacketType}"));
        }

        if ((header.Flags & RpcPacketFlags.FirstAndLast) != RpcPacketFlags.FirstAndLast)
        {
            throw Fail(name + " is fragmented (FIRST|LAST not both set)");
        }

        return header;
    }

    /// <summary>Reads max_xmit, max_recv, assoc_group_id, the secondary address, the padding and the result count, and checks
    /// that exactly <paramref name="results"/> results fill the rest of the PDU.</summary>
    private RpcReader ReadBindReplyPrefix(ReadOnlySpan<byte> pdu, string name, int results, bool isBind)
    {
        var reader = new RpcReader(pdu);
        reader.TrySkip(RpcHeader.Length);
        if (!reader.TryReadUInt16(out ushort maxXmit) || !reader.TryReadUInt16(out ushort maxRecv)
            || !reader.TryReadUInt32(out uint group) || !reader.TryReadUInt16(out ushort addressLength)
            || !reader.TryReadBytes(addressLength, out var address))
        {
            throw Fail("truncated " + name);
        }

        if (maxXmit is < MinNegotiatedFragment || maxRecv is < MinNegotiatedFragment
            || maxXmit > Options.MaxFragmentLength || maxRecv > Options.MaxFragmentLength)
        {
            throw Fail(Format($"{name} max_xmit_frag {maxXmit} / max_recv_frag {maxRecv} are outside {MinNegotiatedFragment}..{Options.MaxFragmentLength}"));
        }

        if (isBind)
        {
            // The secondary address is the server's port as decimal text with a terminating NUL.
            if (address.Length < 2 || address.Length > 6 || address[^1] != 0 || address[..^1].ContainsAnyExceptInRange((byte)'0', (byte)'9')
                || !ushort.TryParse(address[..^1], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                throw Fail(Format($"bind_ack secondary address ({addressLength} bytes) is not a NUL-terminated port number"));
            }

            SecondaryAddress = System.Text.Encoding.ASCII.GetString(address[..^1]);
            AssociationGroupId = group;
            ServerMaxTransmitFragment = maxXmit;
            ServerMaxReceiveFragment = maxRecv;
        }
        else if (addressLength != 0 && address[^1] != 0)
        {
            throw Fail("alter_context_resp secondary address is not NUL-terminated");
        }

        // Padding to a multiple of 4 is not checked: vlmcsd (imitating Windows) leaves stale bytes there.
        if (!reader.TryAlign(4, out _) || !reader.TryReadByte(out byte count) || !reader.TrySkip(3))
        {
            throw Fail("truncated " + name);
        }

        if (count != results)
        {
            throw Fail(Format($"{name} carries {count} results for {results} context elements"));
        }

        if (reader.Remaining != results * (4 + RpcSyntaxIds.Length))
        {
            throw Fail(Format($"{name} length does not match its {results} results"));
        }

        return reader;
    }

    private static void ReadResult(ref RpcReader reader, out ushort result, out ushort reason, out ReadOnlySpan<byte> syntax)
    {
        reader.TryReadUInt16(out result);
        reader.TryReadUInt16(out reason);
        reader.TryReadBytes(RpcSyntaxIds.Length, out syntax);
    }

    private void CheckRejection(ushort result, ushort reason, ReadOnlySpan<byte> syntax, string name)
    {
        if (result != ResultProviderRejection)
        {
            throw Fail(Format($"bind_ack result {result} for {name} is not acceptance or provider rejection"));
        }

        if (reason == 1)
        {
            throw Fail("the server does not support the KMS interface (abstract syntax rejected)");
        }

        if (syntax.ContainsAnyExcept((byte)0))
        {
            throw Fail(Format($"bind_ack rejects {name} but carries a transfer syntax"));
        }
    }

    private static string Format(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
