namespace KmsFarm.Protocol.Rpc;

/// <summary>The syntax identifiers KMS uses, as they travel on the wire (16-byte UUID in Microsoft's mixed-endian order
/// followed by a u32 version; for the interface the version is u16 major, u16 minor).</summary>
internal static class RpcSyntaxIds
{
    /// <summary>Size of one syntax identifier (UUID + version).</summary>
    public const int Length = 20;

    /// <summary>KMS interface 51c82175-844e-4750-b0d8-ec255555bc06 v1.0.</summary>
    public static ReadOnlySpan<byte> KmsInterface =>
    [
        0x75, 0x21, 0xC8, 0x51, 0x4E, 0x84, 0x50, 0x47, 0xB0, 0xD8, 0xEC, 0x25, 0x55, 0x55, 0xBC, 0x06,
        0x01, 0x00, 0x00, 0x00,
    ];

    /// <summary>NDR 2.0, 8a885d04-1ceb-11c9-9fe8-08002b104860 v2.</summary>
    public static ReadOnlySpan<byte> Ndr32 =>
    [
        0x04, 0x5D, 0x88, 0x8A, 0xEB, 0x1C, 0xC9, 0x11, 0x9F, 0xE8, 0x08, 0x00, 0x2B, 0x10, 0x48, 0x60,
        0x02, 0x00, 0x00, 0x00,
    ];

    /// <summary>NDR64, 71710533-beba-4937-8319-b5dbef9ccc36 v1.</summary>
    public static ReadOnlySpan<byte> Ndr64 =>
    [
        0x33, 0x05, 0x71, 0x71, 0xBA, 0xBE, 0x37, 0x49, 0x83, 0x19, 0xB5, 0xDB, 0xEF, 0x9C, 0xCC, 0x36,
        0x01, 0x00, 0x00, 0x00,
    ];

    /// <summary>The first 8 bytes of a bind-time feature negotiation "UUID" 6cb71c2c-9812-4540-XXXX-000000000000; bytes 8-9
    /// carry the requested feature bits.</summary>
    public static ReadOnlySpan<byte> BtfnPrefix => [0x2C, 0x1C, 0xB7, 0x6C, 0x12, 0x98, 0x40, 0x45];

    /// <summary>The feature bits a server may grant: security context multiplexing (1) and keep connection on orphan (2).</summary>
    public const ushort BtfnSupportedFeatures = 0x0003;

    public static bool IsBtfn(ReadOnlySpan<byte> syntax) => syntax[..8].SequenceEqual(BtfnPrefix);

    public static ushort BtfnFeatures(ReadOnlySpan<byte> syntax) => (ushort)(syntax[8] | (syntax[9] << 8));

    /// <summary>Writes a BTFN syntax id requesting <paramref name="features"/> (version 1).</summary>
    public static void WriteBtfn(Span<byte> destination, ushort features)
    {
        destination[..Length].Clear();
        BtfnPrefix.CopyTo(destination);
        destination[8] = (byte)features;
        destination[9] = (byte)(features >> 8);
        destination[16] = 1;
    }
}
