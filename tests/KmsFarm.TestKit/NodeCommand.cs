using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.RegularExpressions;

namespace KmsFarm.TestKit;

/// <summary>The node as a separate OS process (<c>dotnet KmsFarm.Node.dll</c> from the test output folder), for what only
/// a real process shows: its exit code, what it prints on stdout and stderr, its working directory. Killed (SIGKILL) on
/// dispose if still running.</summary>
public sealed partial class NodeCommand : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _stdout = new();
    private readonly ConcurrentQueue<string> _stderr = new();

    private NodeCommand(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Keep(_stdout, e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(_stderr, e.Data);
    }

    public static string NodeAssemblyPath => Path.Combine(AppContext.BaseDirectory, "KmsFarm.Node.dll");

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public IReadOnlyList<string> StandardOutput => _stdout.ToArray();

    public IReadOnlyList<string> StandardError => _stderr.ToArray();

    /// <summary>Both streams, for failure messages.</summary>
    public string Output => "stdout:\n" + string.Join('\n', _stdout) + "\nstderr:\n" + string.Join('\n', _stderr);

    /// <summary>True when any line looks like a .NET stack frame ("   at Namespace.Type.Method(") or an unhandled exception.</summary>
    public bool PrintedStackTrace => _stdout.Concat(_stderr).Any(l => StackFrame().IsMatch(l) || l.Contains("Unhandled exception", StringComparison.Ordinal));

    public static NodeCommand Start(IReadOnlyList<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        if (!File.Exists(NodeAssemblyPath))
        {
            throw new FileNotFoundException($"{NodeAssemblyPath} is missing: the test project must reference KmsFarm.Node.");
        }

        var info = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory ?? AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(NodeAssemblyPath);
        foreach (string argument in args)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        var process = new Process { StartInfo = info };
        var command = new NodeCommand(process);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return command;
    }

    /// <summary>Runs the node to its exit (at most <paramref name="timeout"/>, then it is killed and the test fails).</summary>
    public static async Task<NodeCommand> RunAsync(
        IReadOnlyList<string> args, TimeSpan timeout, CancellationToken cancellationToken, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        var command = Start(args, workingDirectory, environment);
        await command.WaitForExitAsync(timeout, cancellationToken);
        return command;
    }

    public async Task WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _process.Kill();
            throw new TimeoutException($"The node did not exit within {timeout}:\n{Output}");
        }

        // The last lines arrive after the exit; WaitForExit() without a timeout waits for the streams' end.
        _process.WaitForExit();
    }

    /// <summary>Waits until a line of stdout or stderr matches; fails if the node exits first or the time runs out.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> match, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_stdout.Concat(_stderr).FirstOrDefault(match) is { } line)
            {
                return line;
            }

            if (_process.HasExited || clock.Elapsed > timeout)
            {
                throw new TimeoutException($"No such line within {timeout} (node {(_process.HasExited ? "exited" : "running")}):\n{Output}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>SIGTERM, as <c>kill PID</c>, systemd and Kubernetes stop a node.</summary>
    public void Terminate()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            kill.WaitForExit();
        }
    }

    /// <summary>SIGKILL (what <see cref="Process.Kill()"/> sends on Linux): no shutdown hook, no flush, no goodbye.</summary>
    public async Task KillAsync(CancellationToken cancellationToken)
    {
        _process.Kill();
        await _process.WaitForExitAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await _process.WaitForExitAsync(timeout.Token);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        finally
        {
            _process.Dispose();
        }
    }

    /// <summary>The dotnet host running these tests, else the one on PATH.</summary>
    public static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        if (Environment.ProcessPath is { } processPath && Path.GetFileNameWithoutExtension(processPath) == "dotnet")
        {
            return processPath;
        }

        if (Environment.GetEnvironmentVariable("DOTNET_ROOT") is { Length: > 0 } root && File.Exists(Path.Combine(root, "dotnet")))
        {
            return Path.Combine(root, "dotnet");
        }

        return "dotnet";
    }

    private static void Keep(ConcurrentQueue<string> lines, string? line)
    {
        if (line is null)
        {
            return;
        }

        lines.Enqueue(line);
        while (lines.Count > 2000 && lines.TryDequeue(out _))
        {
        }
    }

    [GeneratedRegex(@"^\s+at \S+\.\S+\(", RegexOptions.CultureInvariant)]
    private static partial Regex StackFrame();
}
