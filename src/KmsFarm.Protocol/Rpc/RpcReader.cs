using System.Buffers.Binary;

namespace KmsFarm.Protocol.Rpc;

/// <summary>A bounds-checked little-endian cursor over a PDU. Never allocates, never throws: every read says whether the
/// bytes were there.</summary>
internal ref struct RpcReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;

    public int Position { get; private set; }

    public readonly int Remaining => _data.Length - Position;

    public bool TryReadByte(out byte value)
    {
        if (Remaining < 1)
        {
            value = 0;
            return false;
        }

        value = _data[Position++];
        return true;
    }

    public bool TryReadUInt16(out ushort value)
    {
        if (Remaining < 2)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt16LittleEndian(_data[Position..]);
        Position += 2;
        return true;
    }

    public bool TryReadUInt32(out uint value)
    {
        if (Remaining < 4)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt32LittleEndian(_data[Position..]);
        Position += 4;
        return true;
    }

    public bool TryReadUInt64(out ulong value)
    {
        if (Remaining < 8)
        {
            value = 0;
            return false;
        }

        value = BinaryPrimitives.ReadUInt64LittleEndian(_data[Position..]);
        Position += 8;
        return true;
    }

    public bool TryReadBytes(int count, out ReadOnlySpan<byte> value)
    {
        if (count < 0 || Remaining < count)
        {
            value = default;
            return false;
        }

        value = _data.Slice(Position, count);
        Position += count;
        return true;
    }

    public bool TrySkip(int count) => TryReadBytes(count, out _);

    /// <summary>Skips to the next multiple of <paramref name="alignment"/> counted from the start of the data.</summary>
    public bool TryAlign(int alignment, out ReadOnlySpan<byte> padding) =>
        TryReadBytes((alignment - (Position % alignment)) % alignment, out padding);
}
