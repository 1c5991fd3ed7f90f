using System.Globalization;
using System.Text.RegularExpressions;

namespace KmsFarm.TestKit;

/// <summary>Reads samples out of a Prometheus text exposition (enough for tests: one sample a line, label values without
/// escaped quotes).</summary>
public static partial class PrometheusText
{
    /// <summary>One sample: its metric name, labels and value.</summary>
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    /// <summary>Every sample of <paramref name="exposition"/>, in order.</summary>
    public static IReadOnlyList<Sample> Parse(string exposition)
    {
        ArgumentNullException.ThrowIfNull(exposition);
        var samples = new List<Sample>();
        foreach (string line in exposition.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var match = SampleLine().Match(line);
            if (!match.Success)
            {
                throw new FormatException("Not a sample line: " + line);
            }

            var labels = LabelPair().Matches(match.Groups["labels"].Value)
                .ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value, StringComparer.Ordinal);
            samples.Add(new Sample(match.Groups["name"].Value, labels, ParseValue(match.Groups["value"].Value)));
        }

        return samples;
    }

    /// <summary>A sample value: a float, <c>NaN</c>, <c>+Inf</c> or <c>-Inf</c>.</summary>
    public static double ParseValue(string text) => text switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    /// <summary>The metric family names declared with <c># TYPE</c>.</summary>
    public static IReadOnlySet<string> Families(string exposition) =>
        TypeLine().Matches(exposition).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})?\s+(?<value>\S+)(\s+\d+)?\s*$")]
    private static partial Regex SampleLine();

    [GeneratedRegex("([a-zA-Z_][a-zA-Z0-9_]*)=\"([^\"]*)\"")]
    private static partial Regex LabelPair();

    [GeneratedRegex(@"^# TYPE (\S+) ", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}
