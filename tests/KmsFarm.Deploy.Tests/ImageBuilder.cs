using System.Diagnostics;
using System.Text;
using KmsFarm.TestKit;

namespace KmsFarm.Deploy.Tests;

/// <summary>Does what a builder does with deploy/Dockerfile, without a Docker engine: every stage gets its own root
/// directory under one temp dir, and the paths the Dockerfile makes (the first segment of every WORKDIR, COPY destination
/// and COPY --from source: /src, /app, /data) are mapped into that root. COPY copies from the build context (minus
/// .dockerignore) or another stage's root, RUN runs each <c>&amp;&amp;</c>-separated command directly (no shell), in the
/// mapped WORKDIR. Nothing else of the host is touched.</summary>
public sealed class ImageBuilder : IDisposable
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromMinutes(10);

    private readonly Dockerfile _dockerfile;
    private readonly string _context;
    private readonly DockerIgnore _ignore;
    private readonly HashSet<string> _madePaths;

    public ImageBuilder(Dockerfile dockerfile, string context)
    {
        _dockerfile = dockerfile;
        _context = context;
        string ignoreFile = Path.Combine(context, ".dockerignore");
        _ignore = new DockerIgnore(File.Exists(ignoreFile) ? File.ReadAllText(ignoreFile) : string.Empty);
        _madePaths = MadePaths(dockerfile);
        Root = Path.Combine("/tmp", "kmsfarm-image-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    /// <summary>What each RUN printed, for failure messages.</summary>
    public StringBuilder Log { get; } = new();

    public string StageRoot(DockerStage stage) => Path.Combine(Root, stage.Name);

    /// <summary>An absolute image path inside <paramref name="stage"/>'s root when the Dockerfile makes it, else unchanged
    /// (/usr/bin/dotnet stays the host's).</summary>
    public string Map(DockerStage stage, string path)
    {
        string[] segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        return path.StartsWith('/') && segments.Length > 0 && _madePaths.Contains(segments[0])
            ? Path.Combine(StageRoot(stage), path.TrimStart('/'))
            : path;
    }

    /// <summary>Every made path in <paramref name="text"/> mapped, where it starts the text or follows ':', '=' or a space
    /// (<c>sqlite:/data/kmsfarm.db</c>).</summary>
    public string MapText(DockerStage stage, string text)
    {
        foreach (string top in _madePaths)
        {
            foreach (string lead in new[] { ":", "=", " " })
            {
                text = text.Replace(lead + "/" + top, lead + Path.Combine(StageRoot(stage), top), StringComparison.Ordinal);
            }

            if (text.StartsWith("/" + top, StringComparison.Ordinal))
            {
                text = Path.Combine(StageRoot(stage), top) + text[(top.Length + 1)..];
            }
        }

        return text;
    }

    /// <summary>Runs the stage's WORKDIR, COPY and RUN instructions in order; returns the final WORKDIR (mapped).</summary>
    public async Task<string> BuildAsync(DockerStage stage, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        string workdir = StageRoot(stage);
        Directory.CreateDirectory(workdir);
        foreach (var instruction in stage.Instructions)
        {
            switch (instruction.Keyword)
            {
                case "WORKDIR":
                    workdir = Map(stage, instruction.Arguments);
                    Assert.NotEqual(instruction.Arguments, workdir);
                    Directory.CreateDirectory(workdir);
                    break;
                case "COPY":
                    await CopyAsync(stage, instruction, workdir, cancellationToken);
                    break;
                case "RUN":
                    foreach (string command in instruction.Arguments.Split("&&", StringSplitOptions.TrimEntries))
                    {
                        await RunAsync(stage, instruction, command, workdir, environment, cancellationToken);
                    }

                    break;
            }
        }

        return workdir;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
            // Left in /tmp.
        }
    }

    private static HashSet<string> MadePaths(Dockerfile dockerfile)
    {
        var paths = new List<string>();
        foreach (var stage in dockerfile.Stages)
        {
            paths.AddRange(stage.All("WORKDIR").Select(i => i.Arguments));
            foreach (var copy in stage.All("COPY"))
            {
                var (options, rest) = Dockerfile.Options(copy.Arguments);
                string[] parts = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                paths.Add(parts[^1]);
                if (options.ContainsKey("from"))
                {
                    paths.AddRange(parts[..^1]);
                }
            }
        }

        return paths.Where(p => p.StartsWith('/')).Select(p => p.Split('/', StringSplitOptions.RemoveEmptyEntries)[0]).ToHashSet(StringComparer.Ordinal);
    }

    private async Task CopyAsync(DockerStage stage, Instruction instruction, string workdir, CancellationToken cancellationToken)
    {
        var (options, rest) = Dockerfile.Options(instruction.Arguments);
        Assert.False(rest.StartsWith('['), $"line {instruction.Line}: COPY in JSON form");
        Assert.DoesNotContain('*', rest);
        string[] parts = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(parts.Length >= 2, $"line {instruction.Line}: COPY needs a source and a destination");
        string destination = parts[^1].StartsWith('/') ? Map(stage, parts[^1]) : Path.Combine(workdir, parts[^1]);
        Assert.True(parts.Length == 2 || parts[^1].EndsWith('/'), $"line {instruction.Line}: several sources need a directory destination ending in '/'");
        DockerStage? from = options.TryGetValue("from", out string? name) ? _dockerfile.Stage(name) : null;
        foreach (string source in parts[..^1])
        {
            string path = from is null ? Path.Combine(_context, source) : Map(from, source);
            Assert.True(File.Exists(path) || Directory.Exists(path), $"line {instruction.Line}: COPY source {source} does not exist ({path})");
            if (Directory.Exists(path))
            {
                CopyDirectory(path, destination, from is null ? source.TrimEnd('/') : null);
            }
            else
            {
                string target = parts[^1].EndsWith('/') ? Path.Combine(destination, Path.GetFileName(path)) : destination;
                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                File.Copy(path, target, overwrite: true);
            }
        }

        if (options.TryGetValue("chown", out string? owner) && IsRoot)
        {
            var (exitCode, output, error) = await ExternalTool.RunAsync("chown", ["-R", owner, destination], cancellationToken: cancellationToken);
            Assert.True(exitCode == 0, $"chown {owner} {destination}: {output}{error}");
        }
    }

    /// <summary>The directory's contents into <paramref name="target"/>; <paramref name="contextPath"/> (the path in the
    /// build context) decides what .dockerignore leaves out, null for a copy from another stage.</summary>
    private void CopyDirectory(string source, string target, string? contextPath)
    {
        Directory.CreateDirectory(target);
        foreach (string entry in Directory.EnumerateFileSystemEntries(source))
        {
            string name = Path.GetFileName(entry);
            string? inContext = contextPath is null ? null : (contextPath is "." or "" ? name : contextPath + "/" + name);
            if (inContext is not null && _ignore.IsIgnored(inContext))
            {
                continue;
            }

            if (Directory.Exists(entry))
            {
                CopyDirectory(entry, Path.Combine(target, name), inContext);
            }
            else
            {
                File.Copy(entry, Path.Combine(target, name), overwrite: true);
            }
        }
    }

    private async Task RunAsync(
        DockerStage stage, Instruction instruction, string command, string workdir, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        Assert.True(command.IndexOfAny(['\'', '"', '$', '|', ';', '<', '>', '`', '(', ')', '*', '\\']) < 0,
            $"line {instruction.Line}: RUN '{command}' uses shell syntax the tests do not run");
        string[] words = command.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(w => Map(stage, w)).ToArray();
        string program = ExternalTool.Find(words[0]) ?? throw new InvalidOperationException($"line {instruction.Line}: {words[0]} is not installed here");
        var info = new ProcessStartInfo(program)
        {
            WorkingDirectory = workdir,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string word in words[1..])
        {
            info.ArgumentList.Add(word);
        }

        // The test host's MSBuild and VSTest variables would steer a nested build; a builder has none of them. No build
        // servers either: they would outlive the test.
        foreach (string key in info.Environment.Keys.Where(k => k.StartsWith("MSBUILD", StringComparison.OrdinalIgnoreCase)
            || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase) || k == "DOTNET_HOST_PATH").ToList())
        {
            info.Environment.Remove(key);
        }

        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        info.Environment["UseSharedCompilation"] = "false";
        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("could not start " + program);
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(RunTimeout);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        string printed = await output + await error;
        Log.AppendLine("$ " + string.Join(' ', words)).AppendLine(printed);
        Assert.True(process.ExitCode == 0, $"line {instruction.Line}: '{string.Join(' ', words)}' exited with {process.ExitCode}:\n{Tail(printed, 60)}");
    }

    internal static bool IsRoot => Environment.UserName == "root";

    internal static string Tail(string text, int lines) => string.Join('\n', text.Split('\n').TakeLast(lines));
}
