using System.Buffers.Binary;

namespace KmsFarm.Protocol.Kms;

/// <summary>The plaintext response base shared by V4, V5 and V6 (PROTOCOL-NOTES §4.2): 44 + P bytes, P being the byte
/// size of the UTF-16LE ePID including its NUL.</summary>
/// <param name="Version">Minor | major &lt;&lt; 16.</param>
public readonly record struct KmsResponseBase(
    uint Version, string Epid, Guid ClientMachineId, long ClientTime, uint CurrentCount, uint ActivationInterval, uint RenewalInterval)
{
    public const int FixedSize = 44;

    /// <summary>At most 63 characters, so P ≤ 128 bytes.</summary>
    public const int MaxEpidChars = 63;

    public const int MaxEpidBytes = 2 * (MaxEpidChars + 1);

    public int Size => GetSize(Epid.Length);

    /// <summary>44 + P for an ePID of <paramref name="epidChars"/> characters.</summary>
    public static int GetSize(int epidChars) => FixedSize + EpidBytes(epidChars);

    /// <summary>P = 2 · (characters + 1).</summary>
    public static int EpidBytes(int epidChars) => 2 * (epidChars + 1);

    public int WriteTo(Span<byte> destination) =>
        Write(Version, Epid, ClientMachineId, ClientTime, CurrentCount, ActivationInterval, RenewalInterval, destination);

    /// <summary>Writes the base without allocating; returns 44 + P.</summary>
    public static int Write(
        uint version,
        ReadOnlySpan<char> epid,
        Guid clientMachineId,
        long clientTime,
        uint currentCount,
        uint activationInterval,
        uint renewalInterval,
        Span<byte> destination)
    {
        if (epid.Length > MaxEpidChars || epid.Contains('\0'))
        {
            throw new ArgumentException($"An ePID is at most {MaxEpidChars} characters without NUL.", nameof(epid));
        }

        int p = EpidBytes(epid.Length);
        int size = FixedSize + p;
        if (destination.Length < size)
        {
            throw new ArgumentException("Destination too small for the response base.", nameof(destination));
        }

        BinaryPrimitives.WriteUInt32LittleEndian(destination, version);
        BinaryPrimitives.WriteInt32LittleEndian(destination[4..], p);
        for (int i = 0; i < epid.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(8 + (2 * i))..], epid[i]);
        }

        BinaryPrimitives.WriteUInt16LittleEndian(destination[(6 + p)..], 0);
        clientMachineId.TryWriteBytes(destination.Slice(8 + p, 16));
        BinaryPrimitives.WriteInt64LittleEndian(destination[(24 + p)..], clientTime);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[(32 + p)..], currentCount);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[(36 + p)..], activationInterval);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[(40 + p)..], renewalInterval);
        return size;
    }

    /// <summary>Reads P from a base at the start of <paramref name="source"/> and checks it: even, 2..128 bytes, and the
    /// whole base present. Returns 44 + P, or throws <see cref="KmsProtocolException"/>.</summary>
    public static int ReadSize(ReadOnlySpan<byte> source)
    {
        if (source.Length < FixedSize + 2)
        {
            KmsProtocolException.Throw($"Response base truncated: {source.Length} bytes.");
        }

        uint p = BinaryPrimitives.ReadUInt32LittleEndian(source[4..]);
        if (p is < 2 or > MaxEpidBytes || p % 2 != 0)
        {
            KmsProtocolException.Throw($"ePID size {p} is not an even byte count from 2 to {MaxEpidBytes}.");
        }

        if (source.Length < FixedSize + (int)p)
        {
            KmsProtocolException.Throw($"Response base truncated: ePID size {p} but only {source.Length} bytes.");
        }

        return FixedSize + (int)p;
    }

    /// <summary>Decodes a base, checking the ePID size and its NUL terminator (not the ePID text format; see
    /// <see cref="EpidFormat"/>). Throws <see cref="KmsProtocolException"/>.</summary>
    public static KmsResponseBase Read(ReadOnlySpan<byte> source, out int size)
    {
        size = ReadSize(source);
        int p = size - FixedSize;
        int chars = (p / 2) - 1;
        if (BinaryPrimitives.ReadUInt16LittleEndian(source[(6 + p)..]) != 0)
        {
            KmsProtocolException.Throw("ePID is not NUL-terminated.");
        }

        Span<char> text = stackalloc char[MaxEpidChars];
        for (int i = 0; i < chars; i++)
        {
            text[i] = (char)BinaryPrimitives.ReadUInt16LittleEndian(source[(8 + (2 * i))..]);
        }

        string epid = new(text[..chars]);

        return new KmsResponseBase(
            BinaryPrimitives.ReadUInt32LittleEndian(source),
            epid,
            new Guid(source.Slice(8 + p, 16)),
            BinaryPrimitives.ReadInt64LittleEndian(source[(24 + p)..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[(32 + p)..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[(36 + p)..]),
            BinaryPrimitives.ReadUInt32LittleEndian(source[(40 + p)..]));
    }
}
