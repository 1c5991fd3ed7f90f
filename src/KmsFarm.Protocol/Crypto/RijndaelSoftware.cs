namespace KmsFarm.Protocol.Crypto;

/// <summary>Portable Rijndael round functions (128-bit block), byte-oriented with the standard 256-byte S-box and inverse
/// S-box; MixColumns is computed arithmetically (no T-tables). Used when AES-NI is absent and by the tests.
/// Not constant-time against cache-timing observers: the S-box lookups are key-dependent. The only keys it ever sees are
/// the protocol's published constants, so there is nothing secret to leak.</summary>
internal static class RijndaelSoftware
{
    public const int BlockSize = 16;

    private static readonly byte[] SBox = BuildSBox();
    private static readonly byte[] InverseSBox = BuildInverseSBox(SBox);

    public static byte Sub(byte value) => SBox[value];

    /// <summary>Encrypts one block with <paramref name="schedule"/> (Nr + 1 round keys of 16 bytes).</summary>
    public static void EncryptBlock(ReadOnlySpan<byte> schedule, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int rounds = (schedule.Length / BlockSize) - 1;
        Span<byte> state = stackalloc byte[BlockSize];
        source[..BlockSize].CopyTo(state);
        AddRoundKey(state, schedule[..BlockSize]);
        for (int round = 1; round < rounds; round++)
        {
            SubBytesShiftRows(state);
            MixColumns(state);
            AddRoundKey(state, schedule.Slice(round * BlockSize, BlockSize));
        }

        SubBytesShiftRows(state);
        AddRoundKey(state, schedule.Slice(rounds * BlockSize, BlockSize));
        state.CopyTo(destination);
    }

    /// <summary>The straightforward inverse cipher: round keys in reverse order, no key transformation needed.</summary>
    public static void DecryptBlock(ReadOnlySpan<byte> schedule, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int rounds = (schedule.Length / BlockSize) - 1;
        Span<byte> state = stackalloc byte[BlockSize];
        source[..BlockSize].CopyTo(state);
        AddRoundKey(state, schedule.Slice(rounds * BlockSize, BlockSize));
        for (int round = rounds - 1; round > 0; round--)
        {
            InverseShiftRowsSubBytes(state);
            AddRoundKey(state, schedule.Slice(round * BlockSize, BlockSize));
            InverseMixColumns(state);
        }

        InverseShiftRowsSubBytes(state);
        AddRoundKey(state, schedule[..BlockSize]);
        state.CopyTo(destination);
    }

    private static void AddRoundKey(Span<byte> state, ReadOnlySpan<byte> roundKey)
    {
        for (int i = 0; i < BlockSize; i++)
        {
            state[i] ^= roundKey[i];
        }
    }

    // The state is column-major: byte 4c + r is row r of column c. ShiftRows moves row r left by r columns.
    private static void SubBytesShiftRows(Span<byte> s)
    {
        byte[] box = SBox;
        Span<byte> t = stackalloc byte[BlockSize];
        for (int c = 0; c < 4; c++)
        {
            for (int r = 0; r < 4; r++)
            {
                t[(4 * c) + r] = box[s[(4 * ((c + r) & 3)) + r]];
            }
        }

        t.CopyTo(s);
    }

    private static void InverseShiftRowsSubBytes(Span<byte> s)
    {
        byte[] box = InverseSBox;
        Span<byte> t = stackalloc byte[BlockSize];
        for (int c = 0; c < 4; c++)
        {
            for (int r = 0; r < 4; r++)
            {
                t[(4 * ((c + r) & 3)) + r] = box[s[(4 * c) + r]];
            }
        }

        t.CopyTo(s);
    }

    private static void MixColumns(Span<byte> s)
    {
        for (int c = 0; c < BlockSize; c += 4)
        {
            byte a0 = s[c], a1 = s[c + 1], a2 = s[c + 2], a3 = s[c + 3];
            byte all = (byte)(a0 ^ a1 ^ a2 ^ a3);
            s[c] = (byte)(a0 ^ all ^ XTime((byte)(a0 ^ a1)));
            s[c + 1] = (byte)(a1 ^ all ^ XTime((byte)(a1 ^ a2)));
            s[c + 2] = (byte)(a2 ^ all ^ XTime((byte)(a2 ^ a3)));
            s[c + 3] = (byte)(a3 ^ all ^ XTime((byte)(a3 ^ a0)));
        }
    }

    /// <summary>InvMixColumns = MixColumns after multiplying each column by {04}x² + {05} (FIPS-197 decomposition).</summary>
    internal static void InverseMixColumns(Span<byte> s)
    {
        for (int c = 0; c < BlockSize; c += 4)
        {
            byte u = XTime(XTime((byte)(s[c] ^ s[c + 2])));
            byte v = XTime(XTime((byte)(s[c + 1] ^ s[c + 3])));
            s[c] ^= u;
            s[c + 1] ^= v;
            s[c + 2] ^= u;
            s[c + 3] ^= v;
        }

        MixColumns(s);
    }

    /// <summary>Multiplication by x in GF(2⁸) modulo x⁸ + x⁴ + x³ + x + 1, without a data-dependent branch.</summary>
    private static byte XTime(byte b) => (byte)((b << 1) ^ (0x1B & -(b >> 7)));

    private static byte[] BuildSBox()
    {
        // Walk the multiplicative group with generator 3 (p) while q tracks its inverse, then apply the affine map.
        var box = new byte[256];
        byte p = 1, q = 1;
        do
        {
            p = (byte)(p ^ XTime(p));
            q ^= (byte)(q << 1);
            q ^= (byte)(q << 2);
            q ^= (byte)(q << 4);
            if ((q & 0x80) != 0)
            {
                q ^= 0x09;
            }

            int affine = q ^ RotateLeft(q, 1) ^ RotateLeft(q, 2) ^ RotateLeft(q, 3) ^ RotateLeft(q, 4);
            box[p] = (byte)(affine ^ 0x63);
        }
        while (p != 1);

        box[0] = 0x63;
        return box;
    }

    private static byte[] BuildInverseSBox(byte[] box)
    {
        var inverse = new byte[256];
        for (int i = 0; i < 256; i++)
        {
            inverse[box[i]] = (byte)i;
        }

        return inverse;
    }

    private static byte RotateLeft(byte value, int count) => (byte)((value << count) | (value >> (8 - count)));
}
