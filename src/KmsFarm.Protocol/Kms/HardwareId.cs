using System.Buffers.Binary;
using System.Globalization;

namespace KmsFarm.Protocol.Kms;

/// <summary>The 8-byte host hardware id carried in V6 responses. <see cref="Value"/> holds the wire bytes little-endian;
/// the text form is the 16 hex digits in wire order, as <c>vlmcs</c> prints it.</summary>
public readonly record struct HardwareId(ulong Value)
{
    public const int Size = 8;

    public void WriteTo(Span<byte> destination) => BinaryPrimitives.WriteUInt64LittleEndian(destination, Value);

    public static HardwareId Read(ReadOnlySpan<byte> source) => new(BinaryPrimitives.ReadUInt64LittleEndian(source));

    public static HardwareId Parse(string hex)
    {
        if (hex.Length != 16 || !ulong.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var bigEndian))
        {
            throw new FormatException($"A hardware id is 16 hex digits, not '{hex}'.");
        }

        return new HardwareId(BinaryPrimitives.ReverseEndianness(bigEndian));
    }

    public override string ToString()
    {
        Span<byte> bytes = stackalloc byte[Size];
        WriteTo(bytes);
        return Convert.ToHexString(bytes);
    }
}
