namespace KmsFarm.Client.Load;

/// <summary>A tiny deterministic generator (SplitMix64). Used instead of <see cref="Random"/> so that a population is the
/// same for a seed on every runtime version, and so machine i can be derived without generating machines 0..i-1.</summary>
internal struct SplitMix64
{
    private ulong _state;

    public SplitMix64(ulong seed) => _state = seed;

    /// <summary>The generator for item <paramref name="index"/> of the stream <paramref name="seed"/>.</summary>
    public static SplitMix64 For(long seed, long index)
    {
        var mixer = new SplitMix64(unchecked((ulong)seed));
        ulong streamSeed = mixer.NextUInt64() ^ unchecked((ulong)index * 0xD1B54A32D192ED03UL);
        return new SplitMix64(streamSeed);
    }

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A value in [0, <paramref name="maxExclusive"/>).</summary>
    public int Next(int maxExclusive) => (int)(NextUInt64() % (ulong)maxExclusive);

    /// <summary>A value in [0, 1).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    public Guid NextGuidV4()
    {
        Span<byte> bytes = stackalloc byte[16];
        BitConverter.TryWriteBytes(bytes, NextUInt64());
        BitConverter.TryWriteBytes(bytes[8..], NextUInt64());
        bytes[7] = (byte)((bytes[7] & 0x0F) | 0x40); // version 4 (Data3's high nibble; Data3 is little-endian)
        bytes[8] = (byte)((bytes[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(bytes);
    }
}
