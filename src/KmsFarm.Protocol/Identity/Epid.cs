using System.Globalization;

namespace KmsFarm.Protocol.Identity;

/// <summary>A KMS host extended PID, <c>PPPPP-GGGGG-KKK-NNNNNN-03-LCID-BUILD.0000-DDDYYYY</c> (PROTOCOL-NOTES §7).</summary>
/// <param name="PlatformId">PPPPP: the platform id of the host build.</param>
/// <param name="GroupId">GGGGG: the CSVLK group id.</param>
/// <param name="KeyId">KKK-NNNNNN: the CSVLK key id (0..999999999), printed as ⌊id/10⁶⌋ and id mod 10⁶.</param>
/// <param name="Lcid">The host's locale id, decimal without padding.</param>
/// <param name="Build">The host's Windows build, printed as BUILD.0000.</param>
/// <param name="ActivationDate">DDDYYYY: day of year (3 digits) and year.</param>
public readonly record struct Epid(int PlatformId, int GroupId, int KeyId, int Lcid, int Build, DateOnly ActivationDate)
{
    /// <summary>The license channel field: always 03 (volume) for a CSVLK.</summary>
    public const string Channel = "03";

    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{PlatformId:D5}-{GroupId:D5}-{KeyId / 1_000_000:D3}-{KeyId % 1_000_000:D6}-{Channel}-{Lcid}-{Build}.0000-{ActivationDate.DayOfYear:D3}{ActivationDate.Year:D4}");
}
