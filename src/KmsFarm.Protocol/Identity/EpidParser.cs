using System.Globalization;

namespace KmsFarm.Protocol.Identity;

/// <summary>Parses and checks the format of an ePID string (<see cref="Epid"/>).</summary>
public static class EpidParser
{
    /// <summary>The longest ePID a KMS response carries (63 UTF-16 characters plus the NUL).</summary>
    public const int MaxLength = 63;

    public static Epid Parse(string text) =>
        TryParse(text, out var epid, out var error) ? epid : throw new FormatException($"Invalid ePID '{text}': {error}");

    public static bool TryParse(string? text, out Epid epid) => TryParse(text, out epid, out _);

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says which field is wrong.</summary>
    public static bool TryParse(string? text, out Epid epid, out string error)
    {
        epid = default;
        if (string.IsNullOrEmpty(text) || text.Length > MaxLength)
        {
            error = $"length must be 1..{MaxLength}";
            return false;
        }

        var parts = text.Split('-');
        if (parts.Length != 8)
        {
            error = "expected 8 dash-separated fields PPPPP-GGGGG-KKK-NNNNNN-03-LCID-BUILD.0000-DDDYYYY";
            return false;
        }

        if (!Digits(parts[0], 5, 5, out int platform))
        {
            error = "platform id must be 5 digits";
            return false;
        }

        if (!Digits(parts[1], 5, 5, out int group))
        {
            error = "group id must be 5 digits";
            return false;
        }

        if (!Digits(parts[2], 3, 3, out int keyHigh) || !Digits(parts[3], 6, 6, out int keyLow))
        {
            error = "key id must be 3 + 6 digits";
            return false;
        }

        if (parts[4] != Epid.Channel)
        {
            error = "channel must be 03";
            return false;
        }

        if (!Digits(parts[5], 1, 5, out int lcid) || lcid == 0 || lcid > ushort.MaxValue || parts[5][0] == '0')
        {
            error = "LCID must be a decimal 1..65535 without padding";
            return false;
        }

        const string buildSuffix = ".0000";
        if (!parts[6].EndsWith(buildSuffix, StringComparison.Ordinal)
            || !Digits(parts[6][..^buildSuffix.Length], 4, 5, out int build) || parts[6][0] == '0')
        {
            error = "build must be BUILD.0000 with a 4- or 5-digit build";
            return false;
        }

        if (!Digits(parts[7], 7, 7, out _))
        {
            error = "date must be DDDYYYY";
            return false;
        }

        int day = int.Parse(parts[7].AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture);
        int year = int.Parse(parts[7].AsSpan(3, 4), NumberStyles.None, CultureInfo.InvariantCulture);
        if (year < 1 || day < 1 || day > (DateTime.IsLeapYear(year) ? 366 : 365))
        {
            error = $"day {day} of year {year} does not exist";
            return false;
        }

        epid = new Epid(platform, group, keyHigh * 1_000_000 + keyLow, lcid, build, new DateOnly(year, 1, 1).AddDays(day - 1));
        error = "";
        return true;
    }

    private static bool Digits(string s, int minLength, int maxLength, out int value)
    {
        value = 0;
        if (s.Length < minLength || s.Length > maxLength)
        {
            return false;
        }

        foreach (char c in s)
        {
            if (c is < '0' or > '9')
            {
                return false;
            }
        }

        return int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);
    }
}
