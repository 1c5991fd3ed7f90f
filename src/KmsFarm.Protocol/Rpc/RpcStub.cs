using System.Buffers;
using System.Buffers.Binary;

namespace KmsFarm.Protocol.Rpc;

/// <summary>The NDR stubs of RequestActivation and the request/response/fault PDUs that carry them.
/// <c>int RequestActivation([in] int requestSize, [in, size_is(requestSize)] byte *request, [out] int *responseSize,
/// [out, size_is(,*responseSize)] byte **response)</c>.</summary>
internal static class RpcStub
{
    /// <summary>Bytes from the start of a request/response PDU to its stub: header, alloc_hint, p_cont_id, opnum or
    /// cancel_count + reserved.</summary>
    public const int PduPrefixLength = RpcHeader.Length + 8;

    /// <summary>The referent id vlmcsd and Windows use for the non-NULL response pointer.</summary>
    public const uint ResponseReferentId = 0x00020000;

    /// <summary>Size of the fault PDU (header, alloc_hint, p_cont_id, cancel_count, reserved, status, reserved).</summary>
    public const int FaultPduLength = 32;

    public static int RequestHeaderLength(bool ndr64) => ndr64 ? 16 : 8;

    public static int ResponseHeaderLength(bool ndr64) => ndr64 ? 24 : 12;

    public static int Pad4(int length) => (4 - (length & 3)) & 3;

    public static int RequestStubLength(bool ndr64, int payloadLength) => RequestHeaderLength(ndr64) + payloadLength;

    public static int SuccessStubLength(bool ndr64, int payloadLength) =>
        ResponseHeaderLength(ndr64) + payloadLength + Pad4(payloadLength) + 4;

    public static int FailureStubLength(bool ndr64) => ndr64 ? 20 : 12;

    /// <summary>Writes the request stub: size, max_count (u32 each in NDR32, u64 in NDR64), the bytes.</summary>
    public static void WriteRequestStub(Span<byte> destination, bool ndr64, ReadOnlySpan<byte> payload)
    {
        int offset = WriteSizeAndCount(destination, ndr64, (uint)payload.Length, referent: null);
        payload.CopyTo(destination[offset..]);
    }

    /// <summary>Decodes a request stub. Returns null and the payload's place in <paramref name="stub"/> when the two NDR
    /// sizes agree and the bytes are there (up to 7 zero alignment bytes may follow); else why not.</summary>
    public static string? TryReadRequestStub(ReadOnlySpan<byte> stub, bool ndr64, out int payloadOffset, out int payloadLength)
    {
        payloadOffset = RequestHeaderLength(ndr64);
        payloadLength = 0;
        if (stub.Length < payloadOffset)
        {
            return "the request stub is shorter than its NDR header";
        }

        ulong size;
        ulong maxCount;
        if (ndr64)
        {
            size = BinaryPrimitives.ReadUInt64LittleEndian(stub);
            maxCount = BinaryPrimitives.ReadUInt64LittleEndian(stub[8..]);
        }
        else
        {
            size = BinaryPrimitives.ReadUInt32LittleEndian(stub);
            maxCount = BinaryPrimitives.ReadUInt32LittleEndian(stub[4..]);
        }

        if (size != maxCount)
        {
            return "the request size and its NDR conformance differ";
        }

        int available = stub.Length - payloadOffset;
        if (size > (ulong)available)
        {
            return "the request size exceeds the stub";
        }

        payloadLength = (int)size;
        int trailing = available - payloadLength;
        if (trailing >= 8 || stub[(payloadOffset + payloadLength)..].ContainsAnyExcept((byte)0))
        {
            return "the request stub has unexpected bytes after the request";
        }

        return null;
    }

    /// <summary>Writes a response PDU with the success stub: size, referent, max_count, bytes, zero pad to 4, return 0.</summary>
    public static void WriteResponse(IBufferWriter<byte> output, uint callId, ushort contextId, bool ndr64, ReadOnlySpan<byte> payload)
    {
        int stubLength = SuccessStubLength(ndr64, payload.Length);
        Span<byte> pdu = BeginCallPdu(output, RpcPacketType.Response, callId, contextId, stubLength, out int length);
        Span<byte> stub = pdu[PduPrefixLength..];
        int offset = WriteSizeAndCount(stub, ndr64, (uint)payload.Length, ResponseReferentId);
        payload.CopyTo(stub[offset..]);
        output.Advance(length);
    }

    /// <summary>Writes a response PDU with the failure stub: NULL pointer (size 0, referent 0) and the HRESULT.</summary>
    public static void WriteFailure(IBufferWriter<byte> output, uint callId, ushort contextId, bool ndr64, uint hresult)
    {
        int stubLength = FailureStubLength(ndr64);
        Span<byte> pdu = BeginCallPdu(output, RpcPacketType.Response, callId, contextId, stubLength, out int length);
        BinaryPrimitives.WriteUInt32LittleEndian(pdu[(PduPrefixLength + stubLength - 4)..], hresult);
        output.Advance(length);
    }

    /// <summary>Writes a request PDU (opnum 0) carrying <paramref name="payload"/>.</summary>
    public static void WriteRequest(IBufferWriter<byte> output, uint callId, ushort contextId, bool ndr64, ReadOnlySpan<byte> payload)
    {
        int stubLength = RequestStubLength(ndr64, payload.Length);
        Span<byte> pdu = BeginCallPdu(output, RpcPacketType.Request, callId, contextId, stubLength, out int length);
        WriteRequestStub(pdu[PduPrefixLength..], ndr64, payload);
        output.Advance(length);
    }

    /// <summary>Writes a 32-byte fault PDU: FIRST|LAST|DID_NOT_EXECUTE, alloc_hint 32 (as genuine hosts send), status.</summary>
    public static void WriteFault(IBufferWriter<byte> output, uint callId, ushort contextId, uint status)
    {
        Span<byte> pdu = output.GetSpan(FaultPduLength)[..FaultPduLength];
        pdu.Clear();
        RpcHeader.Write(pdu, RpcPacketType.Fault, RpcPacketFlags.FirstAndLast | RpcPacketFlags.DidNotExecute, FaultPduLength, callId);
        BinaryPrimitives.WriteUInt32LittleEndian(pdu[16..], FaultPduLength);
        BinaryPrimitives.WriteUInt16LittleEndian(pdu[20..], contextId);
        BinaryPrimitives.WriteUInt32LittleEndian(pdu[24..], status);
        output.Advance(FaultPduLength);
    }

    private static Span<byte> BeginCallPdu(IBufferWriter<byte> output, RpcPacketType type, uint callId, ushort contextId, int stubLength,
        out int length)
    {
        length = PduPrefixLength + stubLength;
        if (length > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(stubLength), "The PDU would exceed 65535 bytes.");
        }

        Span<byte> pdu = output.GetSpan(length)[..length];
        pdu.Clear();
        RpcHeader.Write(pdu, type, RpcPacketFlags.FirstAndLast, length, callId);
        BinaryPrimitives.WriteUInt32LittleEndian(pdu[16..], (uint)stubLength);
        BinaryPrimitives.WriteUInt16LittleEndian(pdu[20..], contextId);
        return pdu;
    }

    private static int WriteSizeAndCount(Span<byte> destination, bool ndr64, uint size, uint? referent)
    {
        int offset = 0;
        if (ndr64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(destination, size);
            offset += 8;
            if (referent is { } r)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(destination[offset..], r);
                offset += 8;
            }

            BinaryPrimitives.WriteUInt64LittleEndian(destination[offset..], size);
            return offset + 8;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(destination, size);
        offset += 4;
        if (referent is { } r32)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(destination[offset..], r32);
            offset += 4;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(destination[offset..], size);
        return offset + 4;
    }
}
