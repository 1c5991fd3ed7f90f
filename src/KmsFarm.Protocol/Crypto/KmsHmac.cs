using System.Buffers.Binary;
using System.Security.Cryptography;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Protocol.Crypto;

/// <summary>The V6 response MAC (PROTOCOL-NOTES §6.3): a truncated HMAC-SHA256 whose key is derived from the echoed
/// client time.</summary>
internal static class KmsHmac
{
    public const int Size = 16;

    /// <summary>The slot width in 100 ns units (about 4.12 hours); vlmcs also accepts the neighbouring slots.</summary>
    public const ulong SlotWidth = 0x00000022816889BD;

    private const ulong SlotMultiplier = 0x000000208CBAB5ED;
    private const ulong SlotOffset = 0x3156CD5AC628477A;

    /// <summary>The 64-bit slot value the HMAC key is hashed from.</summary>
    public static ulong TimeSlot(long clientTime) => unchecked(((ulong)clientTime / SlotWidth * SlotMultiplier) + SlotOffset);

    /// <summary>Khmac = SHA-256(slot as 8 little-endian bytes)[16..32].</summary>
    public static void DeriveKey(ulong slot, Span<byte> key)
    {
        Span<byte> slotBytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(slotBytes, slot);
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(slotBytes, digest);
        digest[16..].CopyTo(key);
    }

    /// <summary>Per thread, the key of the slot last used on that thread: the slot changes every ~4 hours, so nearly
    /// every response reuses it. Thread-static value fields, so replacing the entry allocates nothing and one thread's
    /// slot (a client with a skewed clock, a test with another time) never evicts another thread's.</summary>
    [ThreadStatic]
    private static ulong t_slot;

    [ThreadStatic]
    private static bool t_hasKey;

    [ThreadStatic]
    private static Block16 t_key;

    /// <summary>M = HMAC-SHA256(Khmac(slot), message)[16..32].</summary>
    /// <param name="remember">Use and refresh this thread's one-entry key cache (the server and a client's own slot);
    /// false for one-off neighbouring slots so they do not evict the common one.</param>
    public static void Compute(ulong slot, ReadOnlySpan<byte> message, Span<byte> mac, bool remember = true)
    {
        Span<byte> key = stackalloc byte[16];
        if (remember && t_hasKey && t_slot == slot)
        {
            t_key.AsReadOnlySpan().CopyTo(key);
        }
        else
        {
            DeriveKey(slot, key);
            if (remember)
            {
                key.CopyTo(t_key.AsSpan());
                t_slot = slot;
                t_hasKey = true;
            }
        }

        Span<byte> digest = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(key, message, digest);
        digest[16..].CopyTo(mac);
    }
}
