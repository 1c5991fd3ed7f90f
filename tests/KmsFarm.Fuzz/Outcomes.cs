using System.Globalization;

namespace KmsFarm.Fuzz;

/// <summary>How often each notable outcome was reached, so a replay of the seeds shows they get past the easy
/// rejections (a corpus that never reaches a call or a decoded response would fuzz only the header checks).</summary>
internal static class Outcomes
{
    private static readonly Dictionary<string, long> Counts = new(StringComparer.Ordinal);

    /// <summary>Counting is only switched on for replays; under afl-fuzz it would be a dictionary lookup per outcome.</summary>
    public static bool Enabled { get; set; }

    public static void Count(string outcome)
    {
        if (Enabled)
        {
            Counts[outcome] = Counts.GetValueOrDefault(outcome) + 1;
        }
    }

    public static string Summary() =>
        string.Join(", ", Counts.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => c.Key + " " + c.Value.ToString(CultureInfo.InvariantCulture)));
}
