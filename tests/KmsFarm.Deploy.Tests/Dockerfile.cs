using System.Text;
using System.Text.Json;

namespace KmsFarm.Deploy.Tests;

/// <summary>deploy/Dockerfile read the way the builder reads it: parser directives and comments dropped, backslash
/// continuations joined, one <see cref="Instruction"/> per statement, grouped into stages by FROM. Only the forms our
/// Dockerfile uses are understood; anything else fails the parse, so the tests never run something they misread.</summary>
public sealed class Dockerfile
{
    private Dockerfile(IReadOnlyList<DockerStage> stages) => Stages = stages;

    public IReadOnlyList<DockerStage> Stages { get; }

    /// <summary>The stage the image is made of (the last one).</summary>
    public DockerStage Final => Stages[^1];

    public DockerStage Stage(string name) => Stages.Single(s => s.Name == name);

    public static Dockerfile Parse(string text)
    {
        var stages = new List<DockerStage>();
        foreach (var (line, statement) in Statements(text))
        {
            int space = statement.IndexOf(' ', StringComparison.Ordinal);
            string keyword = (space < 0 ? statement : statement[..space]).ToUpperInvariant();
            string arguments = space < 0 ? string.Empty : statement[(space + 1)..].Trim();
            if (keyword == "FROM")
            {
                string[] parts = arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                bool named = parts.Length == 3 && parts[1].Equals("AS", StringComparison.OrdinalIgnoreCase);
                Assert.True(parts.Length == 1 || named, $"line {line}: FROM '{arguments}' is not IMAGE [AS NAME]");
                stages.Add(new DockerStage(named ? parts[2] : stages.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), parts[0]));
                continue;
            }

            Assert.True(stages.Count > 0, $"line {line}: {keyword} before the first FROM");
            stages[^1].Instructions.Add(new Instruction(keyword, arguments, line));
        }

        Assert.NotEmpty(stages);
        return new Dockerfile(stages);
    }

    /// <summary>Exec form: a JSON array of strings.</summary>
    public static string[] ExecForm(string arguments)
    {
        Assert.StartsWith("[", arguments, StringComparison.Ordinal);
        return JsonSerializer.Deserialize<string[]>(arguments) ?? throw new FormatException(arguments);
    }

    /// <summary>Leading <c>--name=value</c> options of COPY or HEALTHCHECK, and what follows them.</summary>
    public static (Dictionary<string, string> Options, string Remainder) Options(string arguments)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        string rest = arguments;
        while (rest.StartsWith("--", StringComparison.Ordinal))
        {
            int space = rest.IndexOf(' ', StringComparison.Ordinal);
            string option = space < 0 ? rest : rest[..space];
            int eq = option.IndexOf('=', StringComparison.Ordinal);
            Assert.True(eq > 2, $"option '{option}' is not --name=value");
            options[option[2..eq]] = option[(eq + 1)..];
            rest = space < 0 ? string.Empty : rest[(space + 1)..].TrimStart();
        }

        return (options, rest);
    }

    /// <summary>ENV KEY=VALUE … (values may be empty or double-quoted; the legacy <c>ENV KEY VALUE</c> form is refused).</summary>
    public static IEnumerable<KeyValuePair<string, string>> EnvPairs(string arguments)
    {
        var token = new StringBuilder();
        bool quoted = false;
        var tokens = new List<string>();
        foreach (char c in arguments + " ")
        {
            if (c == '"')
            {
                quoted = !quoted;
            }
            else if (char.IsWhiteSpace(c) && !quoted)
            {
                if (token.Length > 0)
                {
                    tokens.Add(token.ToString());
                    token.Clear();
                }
            }
            else
            {
                token.Append(c);
            }
        }

        foreach (string pair in tokens)
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            Assert.True(eq > 0, $"ENV '{pair}' is not KEY=VALUE");
            yield return new(pair[..eq], pair[(eq + 1)..]);
        }
    }

    private static IEnumerable<(int Line, string Statement)> Statements(string text)
    {
        string[] lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var statement = new StringBuilder();
        int start = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.StartsWith('#') || (line.Length == 0 && statement.Length == 0))
            {
                continue; // comments (and the parser directive) never continue a statement
            }

            if (statement.Length == 0)
            {
                start = i + 1;
            }

            bool continues = line.EndsWith('\\');
            statement.Append(continues ? line[..^1].TrimEnd() + " " : line);
            if (!continues)
            {
                yield return (start, statement.ToString().Trim());
                statement.Clear();
            }
        }

        Assert.True(statement.Length == 0, "the Dockerfile ends inside a continued line");
    }
}

/// <summary>One FROM and the instructions after it.</summary>
public sealed record DockerStage(string Name, string BaseImage)
{
    public List<Instruction> Instructions { get; } = [];

    public IEnumerable<Instruction> All(string keyword) => Instructions.Where(i => i.Keyword == keyword);

    public Instruction? Last(string keyword) => Instructions.LastOrDefault(i => i.Keyword == keyword);

    public IReadOnlyDictionary<string, string> Environment =>
        All("ENV").SelectMany(i => Dockerfile.EnvPairs(i.Arguments)).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value);
}

/// <summary>One statement: its keyword, its arguments as written (continuations joined) and its first line.</summary>
public sealed record Instruction(string Keyword, string Arguments, int Line);
