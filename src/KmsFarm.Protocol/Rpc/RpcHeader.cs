using System.Buffers.Binary;

namespace KmsFarm.Protocol.Rpc;

/// <summary>The 16-byte common header of a connection-oriented PDU, decoded field by field (little-endian only).</summary>
/// <param name="PacketType">PTYPE.</param>
/// <param name="Flags">pfc_flags.</param>
/// <param name="FragmentLength">frag_length: the whole PDU including this header.</param>
/// <param name="AuthLength">auth_length (KMS never uses authentication, so always 0 on a valid PDU).</param>
/// <param name="CallId">call_id.</param>
public readonly record struct RpcHeader(RpcPacketType PacketType, RpcPacketFlags Flags, ushort FragmentLength, ushort AuthLength, uint CallId)
{
    /// <summary>Size of the common header in bytes.</summary>
    public const int Length = 16;

    /// <summary>The packed data representation this implementation sends: little-endian integers, ASCII, IEEE floats.</summary>
    public const uint LittleEndianDataRepresentation = 0x00000010;

    /// <summary>Decodes the fields of a header whose version and data representation were already checked.</summary>
    public static RpcHeader Read(ReadOnlySpan<byte> header) => new(
        (RpcPacketType)header[2],
        (RpcPacketFlags)header[3],
        BinaryPrimitives.ReadUInt16LittleEndian(header[8..]),
        BinaryPrimitives.ReadUInt16LittleEndian(header[10..]),
        BinaryPrimitives.ReadUInt32LittleEndian(header[12..]));

    /// <summary>Checks version 5.0, little-endian integers, auth_length 0 and 16 ≤ frag_length ≤
    /// <paramref name="maxFragmentLength"/>. Returns null when valid, else why not.</summary>
    public static string? Validate(ReadOnlySpan<byte> header, int maxFragmentLength)
    {
        if (header[0] != 5 || header[1] != 0)
        {
            return "unsupported RPC version " + header[0].ToString(System.Globalization.CultureInfo.InvariantCulture) + "."
                + header[1].ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        // drep[0]: high nibble = integer representation (1 = little-endian). Characters and floats are never used by KMS.
        if ((header[4] & 0xF0) != 0x10)
        {
            return "unsupported data representation (big-endian integers)";
        }

        int fragLength = BinaryPrimitives.ReadUInt16LittleEndian(header[8..]);
        if (fragLength < Length)
        {
            return "frag_length " + fragLength.ToString(System.Globalization.CultureInfo.InvariantCulture) + " is shorter than the header";
        }

        if (fragLength > maxFragmentLength)
        {
            return "frag_length " + fragLength.ToString(System.Globalization.CultureInfo.InvariantCulture) + " exceeds the limit of "
                + maxFragmentLength.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(header[10..]) != 0)
        {
            return "auth_length is not 0 (authentication is not supported)";
        }

        return null;
    }

    /// <summary>Writes a fresh header (version 5.0, little-endian data representation, auth_length 0).</summary>
    public static void Write(Span<byte> destination, RpcPacketType type, RpcPacketFlags flags, int fragmentLength, uint callId)
    {
        destination[0] = 5;
        destination[1] = 0;
        destination[2] = (byte)type;
        destination[3] = (byte)flags;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], LittleEndianDataRepresentation);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], checked((ushort)fragmentLength));
        BinaryPrimitives.WriteUInt16LittleEndian(destination[10..], 0);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], callId);
    }
}
