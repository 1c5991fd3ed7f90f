using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;

namespace KmsFarm.Protocol.Rpc;

/// <summary>bind → bind_ack and alter_context → alter_context_resp.</summary>
public sealed partial class RpcServerSession
{
    /// <summary>bind/alter_context body before the context list: max_xmit, max_recv, assoc_group_id, n_context_elem, 3 reserved.</summary>
    private const int BindFixedLength = 12;

    /// <summary>Context element without its transfer syntaxes: p_cont_id, n_transfer_syn, reserved, abstract syntax.</summary>
    private const int ContextElementFixedLength = 4 + RpcSyntaxIds.Length;

    /// <summary>One p_result_t: result, reason, transfer syntax.</summary>
    private const int ResultLength = 4 + RpcSyntaxIds.Length;

    private const ushort ResultAcceptance = 0;
    private const ushort ResultProviderRejection = 2;
    private const ushort ResultNegotiateAck = 3;
    private const ushort ReasonAbstractSyntaxNotSupported = 1;
    private const ushort ReasonTransferSyntaxesNotSupported = 2;
    private const ushort ReasonLocalLimitExceeded = 3;

    private RpcStatus HandleBind(RpcHeader header, ReadOnlySpan<byte> pdu, IBufferWriter<byte> output)
    {
        bool isBind = header.PacketType == RpcPacketType.Bind;
        string what = isBind ? "bind" : "alter_context";
        if (_callInProgress)
        {
            return Close(what + " arrived in the middle of a fragmented request");
        }

        if ((header.Flags & RpcPacketFlags.FirstAndLast) != RpcPacketFlags.FirstAndLast)
        {
            return Close("fragmented " + what + " is not supported");
        }

        var reader = new RpcReader(pdu[RpcHeader.Length..]);
        if (!reader.TryReadUInt16(out ushort maxXmit) || !reader.TryReadUInt16(out ushort maxRecv) || !reader.TryReadUInt32(out _)
            || !reader.TryReadByte(out byte count) || !reader.TrySkip(3))
        {
            return Close("truncated " + what);
        }

        // First pass: check that every declared element fits (n_transfer_syn may exceed 1) and whether NDR64 is offered.
        int listStart = reader.Position;
        bool ndr64Offered = false;
        for (int i = 0; i < count; i++)
        {
            if (!reader.TrySkip(2) || !reader.TryReadByte(out byte syntaxCount) || !reader.TrySkip(1 + RpcSyntaxIds.Length)
                || !reader.TryReadBytes(syntaxCount * RpcSyntaxIds.Length, out var syntaxes))
            {
                return Close(string.Create(CultureInfo.InvariantCulture, $"{what} declares {count} context elements that do not fit the PDU"));
            }

            for (int s = 0; s < syntaxCount; s++)
            {
                ndr64Offered |= syntaxes.Slice(s * RpcSyntaxIds.Length, RpcSyntaxIds.Length).SequenceEqual(RpcSyntaxIds.Ndr64);
            }
        }

        // Reply layout: header, max_xmit, max_recv, assoc_group_id, secondary address (length-prefixed), pad to 4, results.
        Span<char> portText = stackalloc char[8];
        int addressLength = 0;
        if (isBind)
        {
            _localPort.TryFormat(portText, out int digits, default, CultureInfo.InvariantCulture);
            addressLength = digits + 1;
        }

        int resultsOffset = RpcHeader.Length + 10 + addressLength;
        resultsOffset += RpcStub.Pad4(resultsOffset);
        int length = resultsOffset + 4 + (count * ResultLength);

        Span<byte> reply = output.GetSpan(length)[..length];
        reply.Clear();
        var flags = RpcPacketFlags.FirstAndLast;
        if (isBind)
        {
            flags |= header.Flags & RpcPacketFlags.ConcurrentMultiplex;
        }

        RpcHeader.Write(reply, isBind ? RpcPacketType.BindAck : RpcPacketType.AlterContextResponse, flags, length, header.CallId);
        BinaryPrimitives.WriteUInt16LittleEndian(reply[16..], (ushort)Math.Min(maxXmit, _options.MaxFragmentLength));
        BinaryPrimitives.WriteUInt16LittleEndian(reply[18..], (ushort)Math.Min(maxRecv, _options.MaxFragmentLength));
        BinaryPrimitives.WriteUInt32LittleEndian(reply[20..], _associationGroupId);
        BinaryPrimitives.WriteUInt16LittleEndian(reply[24..], (ushort)addressLength);
        for (int i = 0; i < addressLength - 1; i++)
        {
            reply[26 + i] = (byte)portText[i];
        }

        reply[resultsOffset] = count;

        // Second pass: one result per element, in order.
        var elements = new RpcReader(pdu[(RpcHeader.Length + listStart)..]);
        for (int i = 0; i < count; i++)
        {
            elements.TryReadUInt16(out ushort contextId);
            elements.TryReadByte(out byte syntaxCount);
            elements.TrySkip(1);
            elements.TryReadBytes(RpcSyntaxIds.Length, out var abstractSyntax);
            elements.TryReadBytes(syntaxCount * RpcSyntaxIds.Length, out var syntaxes);
            Span<byte> result = reply.Slice(resultsOffset + 4 + (i * ResultLength), ResultLength);
            Negotiate(contextId, abstractSyntax, syntaxes, ndr64Offered, result);
        }

        output.Advance(length);
        return RpcStatus.Consumed;
    }

    /// <summary>Decides one context element (PROTOCOL-NOTES §2.3) and writes its result; binds the context if accepted.</summary>
    private void Negotiate(ushort contextId, ReadOnlySpan<byte> abstractSyntax, ReadOnlySpan<byte> syntaxes, bool ndr64Offered,
        Span<byte> result)
    {
        int syntaxCount = syntaxes.Length / RpcSyntaxIds.Length;
        for (int s = 0; s < syntaxCount; s++)
        {
            var syntax = syntaxes.Slice(s * RpcSyntaxIds.Length, RpcSyntaxIds.Length);
            if (RpcSyntaxIds.IsBtfn(syntax))
            {
                if (_options.BtfnEnabled)
                {
                    WriteResult(result, ResultNegotiateAck, (ushort)(RpcSyntaxIds.BtfnFeatures(syntax) & RpcSyntaxIds.BtfnSupportedFeatures));
                }
                else
                {
                    WriteResult(result, ResultProviderRejection, ReasonTransferSyntaxesNotSupported);
                }

                return;
            }
        }

        if (!abstractSyntax.SequenceEqual(RpcSyntaxIds.KmsInterface))
        {
            WriteResult(result, ResultProviderRejection, ReasonAbstractSyntaxNotSupported);
            return;
        }

        bool ndr32Allowed = !(_options.Ndr64Enabled && ndr64Offered);
        for (int s = 0; s < syntaxCount; s++)
        {
            var syntax = syntaxes.Slice(s * RpcSyntaxIds.Length, RpcSyntaxIds.Length);
            RpcTransferSyntax chosen;
            if (_options.Ndr64Enabled && syntax.SequenceEqual(RpcSyntaxIds.Ndr64))
            {
                chosen = RpcTransferSyntax.Ndr64;
            }
            else if (ndr32Allowed && syntax.SequenceEqual(RpcSyntaxIds.Ndr32))
            {
                chosen = RpcTransferSyntax.Ndr32;
            }
            else
            {
                continue;
            }

            if (!TryBindContext(contextId, chosen))
            {
                WriteResult(result, ResultProviderRejection, ReasonLocalLimitExceeded);
                return;
            }

            WriteResult(result, ResultAcceptance, 0);
            syntax.CopyTo(result[4..]);
            return;
        }

        WriteResult(result, ResultProviderRejection, ReasonTransferSyntaxesNotSupported);
    }

    /// <summary>Writes result and reason; the transfer syntax stays zero (the caller copies it on acceptance).</summary>
    private static void WriteResult(Span<byte> result, ushort value, ushort reason)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(result, value);
        BinaryPrimitives.WriteUInt16LittleEndian(result[2..], reason);
    }
}
