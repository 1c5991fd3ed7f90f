using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace KmsFarm.Protocol.Crypto;

/// <summary>Portable Rijndael round functions (128-bit block) on four 32-bit column words, with the standard 256-byte
/// S-box and inverse S-box; MixColumns is computed arithmetically on packed bytes (no T-tables). Used when AES-NI is absent and by the tests.
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
        byte[] box = SBox;

        // State as four little-endian column words: byte r of column c is row r.
        uint s0 = Load(source, 0) ^ Load(schedule, 0);
        uint s1 = Load(source, 4) ^ Load(schedule, 4);
        uint s2 = Load(source, 8) ^ Load(schedule, 8);
        uint s3 = Load(source, 12) ^ Load(schedule, 12);
        for (int round = 1; round <= rounds; round++)
        {
            // SubBytes and ShiftRows together: row r of column c comes from column c + r.
            uint t0 = Pick(box, s0, s1, s2, s3);
            uint t1 = Pick(box, s1, s2, s3, s0);
            uint t2 = Pick(box, s2, s3, s0, s1);
            uint t3 = Pick(box, s3, s0, s1, s2);
            if (round < rounds)
            {
                t0 = MixColumn(t0);
                t1 = MixColumn(t1);
                t2 = MixColumn(t2);
                t3 = MixColumn(t3);
            }

            int k = round * BlockSize;
            s0 = t0 ^ Load(schedule, k);
            s1 = t1 ^ Load(schedule, k + 4);
            s2 = t2 ^ Load(schedule, k + 8);
            s3 = t3 ^ Load(schedule, k + 12);
        }

        Store(destination, s0, s1, s2, s3);
    }

    /// <summary>The straightforward inverse cipher: round keys in reverse order, no key transformation needed.</summary>
    public static void DecryptBlock(ReadOnlySpan<byte> schedule, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int rounds = (schedule.Length / BlockSize) - 1;
        byte[] box = InverseSBox;
        int last = rounds * BlockSize;
        uint s0 = Load(source, 0) ^ Load(schedule, last);
        uint s1 = Load(source, 4) ^ Load(schedule, last + 4);
        uint s2 = Load(source, 8) ^ Load(schedule, last + 8);
        uint s3 = Load(source, 12) ^ Load(schedule, last + 12);
        for (int round = rounds - 1; round >= 0; round--)
        {
            // InvShiftRows and InvSubBytes: row r of column c comes from column c - r.
            uint t0 = Pick(box, s0, s3, s2, s1);
            uint t1 = Pick(box, s1, s0, s3, s2);
            uint t2 = Pick(box, s2, s1, s0, s3);
            uint t3 = Pick(box, s3, s2, s1, s0);
            int k = round * BlockSize;
            t0 ^= Load(schedule, k);
            t1 ^= Load(schedule, k + 4);
            t2 ^= Load(schedule, k + 8);
            t3 ^= Load(schedule, k + 12);
            if (round > 0)
            {
                t0 = InverseMixColumn(t0);
                t1 = InverseMixColumn(t1);
                t2 = InverseMixColumn(t2);
                t3 = InverseMixColumn(t3);
            }

            s0 = t0;
            s1 = t1;
            s2 = t2;
            s3 = t3;
        }

        Store(destination, s0, s1, s2, s3);
    }

    /// <summary>Row 0 from <paramref name="c0"/>, row 1 from <paramref name="c1"/>, … each through the box.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint Pick(byte[] box, uint c0, uint c1, uint c2, uint c3) =>
        box[(byte)c0] | ((uint)box[(byte)(c1 >> 8)] << 8) | ((uint)box[(byte)(c2 >> 16)] << 16) | ((uint)box[(byte)(c3 >> 24)] << 24);

    /// <summary>MixColumns on one column word: b_r = a_r ⊕ (a_0 ⊕ a_1 ⊕ a_2 ⊕ a_3) ⊕ 2·(a_r ⊕ a_r+1).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint MixColumn(uint a)
    {
        uint next = BitOperations.RotateRight(a, 8);
        uint all = a ^ next ^ BitOperations.RotateRight(a, 16) ^ BitOperations.RotateRight(a, 24);
        return a ^ all ^ XTime4(a ^ next);
    }

    /// <summary>InvMixColumns = MixColumns after multiplying the column by {04}x² + {05} (FIPS-197 decomposition).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint InverseMixColumn(uint a) => MixColumn(a ^ XTime4(XTime4(a ^ BitOperations.RotateRight(a, 16))));

    /// <summary>Four GF(2⁸) multiplications by x at once, without data-dependent branches.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint XTime4(uint x) => ((x & 0x7F7F7F7F) << 1) ^ (((x >> 7) & 0x01010101) * 0x1B);

    private static uint Load(ReadOnlySpan<byte> bytes, int offset) => BinaryPrimitives.ReadUInt32LittleEndian(bytes[offset..]);

    private static void Store(Span<byte> destination, uint s0, uint s1, uint s2, uint s3)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, s0);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], s1);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], s2);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], s3);
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
