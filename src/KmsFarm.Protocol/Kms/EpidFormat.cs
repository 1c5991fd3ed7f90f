namespace KmsFarm.Protocol.Kms;

/// <summary>The text format of a KMS host ePID (PROTOCOL-NOTES §7):
/// <c>PPPPP-GGGGG-KKK-NNNNNN-03-LCID-BUILD.0000-DDDYYYY</c>.</summary>
public static class EpidFormat
{
    /// <summary>True when <paramref name="epid"/> has the eight dash-separated parts: platform (5 digits), CSVLK group
    /// (5 digits), key id (3 + 6 digits), license channel "03", LCID (1–5 digits), build (1–5 digits + ".0000") and date
    /// (day of year 001–366 followed by a 4-digit year).</summary>
    public static bool IsWellFormed(ReadOnlySpan<char> epid)
    {
        if (epid.Length > KmsResponseBase.MaxEpidChars)
        {
            return false;
        }

        Span<Range> parts = stackalloc Range[9];
        if (epid.Split(parts, '-') != 8)
        {
            return false;
        }

        ReadOnlySpan<char> build = epid[parts[6]];
        ReadOnlySpan<char> date = epid[parts[7]];
        return IsDigits(epid[parts[0]], 5, 5)
            && IsDigits(epid[parts[1]], 5, 5)
            && IsDigits(epid[parts[2]], 3, 3)
            && IsDigits(epid[parts[3]], 6, 6)
            && epid[parts[4]].SequenceEqual("03")
            && IsDigits(epid[parts[5]], 1, 5)
            && build.EndsWith(".0000", StringComparison.Ordinal)
            && IsDigits(build[..^5], 1, 5)
            && IsDigits(date, 7, 7)
            && DayOfYear(date) is >= 1 and <= 366;
    }

    private static bool IsDigits(ReadOnlySpan<char> text, int min, int max) =>
        text.Length >= min && text.Length <= max && !text.ContainsAnyExceptInRange('0', '9');

    private static int DayOfYear(ReadOnlySpan<char> date) => ((date[0] - '0') * 100) + ((date[1] - '0') * 10) + (date[2] - '0');
}
