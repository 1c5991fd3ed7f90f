namespace KmsFarm.Protocol.Crypto;

/// <summary>The three fixed KMS keys, expanded once (PROTOCOL-NOTES §5.1–§5.2). The key bytes are protocol constants
/// that stay inside this type; nothing here is ever logged or printed.</summary>
internal sealed class KmsKeyMaterial
{
    private KmsKeyMaterial(bool allowAesNi)
    {
        V4Mac = RijndaelKey.Expand(V4MacKey, allowAesNi);
        V5 = RijndaelKey.Expand(V5Key, allowAesNi);

        Span<byte> schedule = stackalloc byte[RijndaelKey.ScheduleLength(V6Key.Length)];
        RijndaelKey.ExpandSchedule(V6Key, schedule);
        ApplyV6Tweak(schedule);
        V6 = RijndaelKey.FromSchedule(schedule, allowAesNi);
    }

    /// <summary>AES-NI where the CPU has it, else the software path.</summary>
    public static KmsKeyMaterial Default { get; } = new(allowAesNi: true);

    /// <summary>Always the software path (tests and benchmarks).</summary>
    public static KmsKeyMaterial Software { get; } = new(allowAesNi: false);

    /// <summary>160-bit key, 11 rounds: the V4 CBC-MAC cipher.</summary>
    public RijndaelKey V4Mac { get; }

    /// <summary>Plain AES-128.</summary>
    public RijndaelKey V5 { get; }

    /// <summary>AES-128 with the modified expanded key.</summary>
    public RijndaelKey V6 { get; }

    private static ReadOnlySpan<byte> V4MacKey =>
        [0x05, 0x3D, 0x83, 0x07, 0xF9, 0xE5, 0xF0, 0x88, 0xEB, 0x5E, 0xA6, 0x68, 0x6C, 0xF0, 0x37, 0xC7, 0xE4, 0xEF, 0xD2, 0xD6];

    private static ReadOnlySpan<byte> V5Key =>
        [0xCD, 0x7E, 0x79, 0x6F, 0x2A, 0xB2, 0x5D, 0xCB, 0x55, 0xFF, 0xC8, 0xEF, 0x83, 0x64, 0xC4, 0x70];

    private static ReadOnlySpan<byte> V6Key =>
        [0xA9, 0x4A, 0x41, 0x95, 0xE2, 0x01, 0x43, 0x2D, 0x9B, 0xCB, 0x46, 0x04, 0x05, 0xD8, 0x4A, 0x21];

    /// <summary>The V6 modification of the normal AES-128 schedule: the first byte of round keys 4, 6 and 8 is XORed with
    /// a constant after expansion (not fed back into the schedule).</summary>
    internal static void ApplyV6Tweak(Span<byte> schedule)
    {
        schedule[64] ^= 0x73;
        schedule[96] ^= 0x09;
        schedule[128] ^= 0xE4;
    }

    public override string ToString() => "KMS key material";
}
