using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using X86Aes = System.Runtime.Intrinsics.X86.Aes;

namespace KmsFarm.Protocol.Crypto;

/// <summary>An expanded Rijndael key for 128-bit blocks (any Nk from 4 to 8, Nr = Nk + 6), with ECB-block, CBC and
/// CBC-MAC operations over spans that never allocate. Uses AES-NI when the CPU has it and the instance was not created
/// for the software path; both paths produce identical bytes. The key bytes are never exposed through ToString.</summary>
internal sealed class RijndaelKey
{
    public const int BlockSize = 16;

    private readonly byte[] _schedule;
    private readonly Vector128<byte>[]? _encryptionKeys;
    private readonly Vector128<byte>[]? _decryptionKeys;

    private RijndaelKey(byte[] schedule, bool allowAesNi)
    {
        _schedule = schedule;
        Rounds = (schedule.Length / BlockSize) - 1;
        if (allowAesNi && X86Aes.IsSupported)
        {
            _encryptionKeys = new Vector128<byte>[Rounds + 1];
            _decryptionKeys = new Vector128<byte>[Rounds + 1];
            for (int i = 0; i <= Rounds; i++)
            {
                _encryptionKeys[i] = Vector128.Create(schedule.AsSpan(i * BlockSize, BlockSize));
            }

            // Equivalent inverse cipher (FIPS-197 §5.3.5): reversed round keys, InvMixColumns on the middle ones.
            _decryptionKeys[0] = _encryptionKeys[Rounds];
            for (int i = 1; i < Rounds; i++)
            {
                _decryptionKeys[i] = X86Aes.InverseMixColumns(_encryptionKeys[Rounds - i]);
            }

            _decryptionKeys[Rounds] = _encryptionKeys[0];
        }
    }

    public int Rounds { get; }

    /// <summary>True when this instance runs on AES-NI.</summary>
    public bool UsesAesNi => _encryptionKeys is not null;

    /// <summary>The expanded encryption schedule (Nr + 1 round keys), for tests.</summary>
    internal ReadOnlySpan<byte> Schedule => _schedule;

    /// <summary>Expands <paramref name="key"/> (16 to 32 bytes, a multiple of 4) with the Rijndael key schedule.</summary>
    public static RijndaelKey Expand(ReadOnlySpan<byte> key, bool allowAesNi = true)
    {
        var schedule = new byte[ScheduleLength(key.Length)];
        ExpandSchedule(key, schedule);
        return new RijndaelKey(schedule, allowAesNi);
    }

    /// <summary>Wraps an already expanded (possibly modified) schedule of Nr + 1 round keys.</summary>
    public static RijndaelKey FromSchedule(ReadOnlySpan<byte> schedule, bool allowAesNi = true)
    {
        if (schedule.Length % BlockSize != 0 || schedule.Length < 11 * BlockSize || schedule.Length > 15 * BlockSize)
        {
            throw new ArgumentException("A schedule is 11 to 15 round keys of 16 bytes.", nameof(schedule));
        }

        return new RijndaelKey(schedule.ToArray(), allowAesNi);
    }

    public static int ScheduleLength(int keyLength)
    {
        if (keyLength is < 16 or > 32 || keyLength % 4 != 0)
        {
            throw new ArgumentException("A Rijndael key is 16 to 32 bytes, a multiple of 4.", nameof(keyLength));
        }

        int rounds = (keyLength / 4) + 6;
        return (rounds + 1) * BlockSize;
    }

    /// <summary>The standard Rijndael key expansion for Nk = key length / 4 words.</summary>
    public static void ExpandSchedule(ReadOnlySpan<byte> key, Span<byte> schedule)
    {
        int nk = key.Length / 4;
        int length = ScheduleLength(key.Length);
        if (schedule.Length < length)
        {
            throw new ArgumentException("Schedule buffer too small.", nameof(schedule));
        }

        key.CopyTo(schedule);
        byte rcon = 1;
        Span<byte> temp = stackalloc byte[4];
        for (int word = nk; word < length / 4; word++)
        {
            schedule.Slice((word - 1) * 4, 4).CopyTo(temp);
            if (word % nk == 0)
            {
                byte first = temp[0];
                temp[0] = (byte)(RijndaelSoftware.Sub(temp[1]) ^ rcon);
                temp[1] = RijndaelSoftware.Sub(temp[2]);
                temp[2] = RijndaelSoftware.Sub(temp[3]);
                temp[3] = RijndaelSoftware.Sub(first);
                rcon = (byte)((rcon << 1) ^ (0x1B & -(rcon >> 7)));
            }
            else if (nk > 6 && word % nk == 4)
            {
                for (int i = 0; i < 4; i++)
                {
                    temp[i] = RijndaelSoftware.Sub(temp[i]);
                }
            }

            for (int i = 0; i < 4; i++)
            {
                schedule[(word * 4) + i] = (byte)(schedule[((word - nk) * 4) + i] ^ temp[i]);
            }
        }
    }

    public void EncryptBlock(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (_encryptionKeys is { } keys)
        {
            EncryptNi(Vector128.Create(source[..BlockSize]), keys).CopyTo(destination);
        }
        else
        {
            RijndaelSoftware.EncryptBlock(_schedule, source, destination);
        }
    }

    public void DecryptBlock(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (_decryptionKeys is { } keys)
        {
            DecryptNi(Vector128.Create(source[..BlockSize]), keys).CopyTo(destination);
        }
        else
        {
            RijndaelSoftware.DecryptBlock(_schedule, source, destination);
        }
    }

    /// <summary>CBC-encrypts whole blocks. <paramref name="source"/> and <paramref name="destination"/> may be the same
    /// memory (in-place), but must not overlap otherwise.</summary>
    public void EncryptCbc(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        CheckCbcArguments(iv, source, destination);
        if (_encryptionKeys is { } keys)
        {
            var chain = Vector128.Create(iv[..BlockSize]);
            for (int offset = 0; offset < source.Length; offset += BlockSize)
            {
                chain = EncryptNi(chain ^ Vector128.Create(source.Slice(offset, BlockSize)), keys);
                chain.CopyTo(destination.Slice(offset, BlockSize));
            }

            return;
        }

        Span<byte> block = stackalloc byte[BlockSize];
        iv[..BlockSize].CopyTo(block);
        for (int offset = 0; offset < source.Length; offset += BlockSize)
        {
            Xor(block, source.Slice(offset, BlockSize));
            RijndaelSoftware.EncryptBlock(_schedule, block, block);
            block.CopyTo(destination.Slice(offset, BlockSize));
        }
    }

    /// <summary>CBC-decrypts whole blocks (no padding handling). In-place use is allowed.</summary>
    public void DecryptCbc(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        CheckCbcArguments(iv, source, destination);
        if (_decryptionKeys is { } keys)
        {
            var previous = Vector128.Create(iv[..BlockSize]);
            for (int offset = 0; offset < source.Length; offset += BlockSize)
            {
                var cipher = Vector128.Create(source.Slice(offset, BlockSize));
                (DecryptNi(cipher, keys) ^ previous).CopyTo(destination.Slice(offset, BlockSize));
                previous = cipher;
            }

            return;
        }

        Span<byte> chain = stackalloc byte[BlockSize];
        Span<byte> cipherCopy = stackalloc byte[BlockSize];
        Span<byte> plain = stackalloc byte[BlockSize];
        iv[..BlockSize].CopyTo(chain);
        for (int offset = 0; offset < source.Length; offset += BlockSize)
        {
            source.Slice(offset, BlockSize).CopyTo(cipherCopy);
            RijndaelSoftware.DecryptBlock(_schedule, cipherCopy, plain);
            Xor(plain, chain);
            plain.CopyTo(destination.Slice(offset, BlockSize));
            cipherCopy.CopyTo(chain);
        }
    }

    /// <summary>CBC-MAC with a zero IV over <paramref name="message"/> ‖ 0x80 ‖ zeros to a block boundary (at least one
    /// padding byte, so a block-aligned message gets a whole extra block). Writes the 16-byte MAC.</summary>
    public void CbcMac(ReadOnlySpan<byte> message, Span<byte> mac)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mac.Length, BlockSize, nameof(mac));
        int whole = message.Length & ~(BlockSize - 1);
        Span<byte> last = stackalloc byte[BlockSize];
        last.Clear();
        message[whole..].CopyTo(last);
        last[message.Length - whole] = 0x80;

        if (_encryptionKeys is { } keys)
        {
            var chain = Vector128<byte>.Zero;
            for (int offset = 0; offset < whole; offset += BlockSize)
            {
                chain = EncryptNi(chain ^ Vector128.Create(message.Slice(offset, BlockSize)), keys);
            }

            EncryptNi(chain ^ Vector128.Create((ReadOnlySpan<byte>)last), keys).CopyTo(mac);
            return;
        }

        Span<byte> state = stackalloc byte[BlockSize];
        state.Clear();
        for (int offset = 0; offset < whole; offset += BlockSize)
        {
            Xor(state, message.Slice(offset, BlockSize));
            RijndaelSoftware.EncryptBlock(_schedule, state, state);
        }

        Xor(state, last);
        RijndaelSoftware.EncryptBlock(_schedule, state, mac);
    }

    public override string ToString() => $"Rijndael key ({Rounds} rounds, {(UsesAesNi ? "AES-NI" : "software")})";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> EncryptNi(Vector128<byte> block, Vector128<byte>[] keys)
    {
        int rounds = keys.Length - 1;
        block ^= keys[0];
        for (int i = 1; i < rounds; i++)
        {
            block = X86Aes.Encrypt(block, keys[i]);
        }

        return X86Aes.EncryptLast(block, keys[rounds]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<byte> DecryptNi(Vector128<byte> block, Vector128<byte>[] keys)
    {
        int rounds = keys.Length - 1;
        block ^= keys[0];
        for (int i = 1; i < rounds; i++)
        {
            block = X86Aes.Decrypt(block, keys[i]);
        }

        return X86Aes.DecryptLast(block, keys[rounds]);
    }

    private static void Xor(Span<byte> target, ReadOnlySpan<byte> other)
    {
        for (int i = 0; i < BlockSize; i++)
        {
            target[i] ^= other[i];
        }
    }

    private static void CheckCbcArguments(ReadOnlySpan<byte> iv, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        Debug.Assert(iv.Length >= BlockSize, "IV is a block");
        if (source.Length % BlockSize != 0 || destination.Length < source.Length)
        {
            throw new ArgumentException("CBC works on whole blocks and needs a destination as long as the source.");
        }
    }
}
