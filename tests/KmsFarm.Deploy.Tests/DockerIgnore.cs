namespace KmsFarm.Deploy.Tests;

/// <summary>The .dockerignore patterns our build context uses: <c>NAME</c> (a top-level path and everything under it)
/// and <c>**/NAME</c> (a file or directory of that name at any depth). Other syntax fails, rather than being misread.</summary>
public sealed class DockerIgnore
{
    private readonly List<string> _topLevel = [];
    private readonly List<string> _anyDepth = [];

    public DockerIgnore(string text)
    {
        foreach (string raw in text.Split('\n'))
        {
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            bool anyDepth = line.StartsWith("**/", StringComparison.Ordinal);
            string name = (anyDepth ? line[3..] : line).TrimEnd('/');
            Assert.False(
                line.StartsWith('!') || name.Contains('*', StringComparison.Ordinal) || name.Contains('/', StringComparison.Ordinal),
                $".dockerignore pattern '{line}' is not NAME or **/NAME");
            (anyDepth ? _anyDepth : _topLevel).Add(name);
        }
    }

    /// <summary>Whether <paramref name="relativePath"/> (from the context root, '/'-separated) is left out of the context.</summary>
    public bool IsIgnored(string relativePath)
    {
        string[] segments = relativePath.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return segments.Length > 0 && (_topLevel.Contains(segments[0]) || segments.Any(_anyDepth.Contains));
    }
}
