namespace KmsFarm.Protocol.Crypto;

/// <summary>PKCS#7 padding to 16-byte blocks: always 1–16 bytes, each equal to the pad length.</summary>
internal static class Pkcs7
{
    public const int BlockSize = 16;

    /// <summary>Length of <paramref name="length"/> bytes once padded.</summary>
    public static int PaddedLength(int length) => (length + BlockSize) & ~(BlockSize - 1);

    /// <summary>Writes the padding after the first <paramref name="length"/> bytes of <paramref name="buffer"/>; returns
    /// the padded length.</summary>
    public static int Pad(Span<byte> buffer, int length)
    {
        int padded = PaddedLength(length);
        buffer[length..padded].Fill((byte)(padded - length));
        return padded;
    }

    /// <summary>Checks the padding of <paramref name="data"/> (a whole number of blocks) and returns the unpadded length,
    /// or -1 when the padding is malformed.</summary>
    public static int Unpad(ReadOnlySpan<byte> data)
    {
        if (data.Length == 0 || data.Length % BlockSize != 0)
        {
            return -1;
        }

        int pad = data[^1];
        if (pad is < 1 or > BlockSize)
        {
            return -1;
        }

        int bad = 0;
        for (int i = data.Length - pad; i < data.Length; i++)
        {
            bad |= data[i] ^ pad;
        }

        return bad == 0 ? data.Length - pad : -1;
    }
}
