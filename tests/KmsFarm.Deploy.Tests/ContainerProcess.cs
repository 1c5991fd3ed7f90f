using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using KmsFarm.TestKit;

namespace KmsFarm.Deploy.Tests;

/// <summary>A command run the way a container runs it: only the given environment, the given working directory, and (as
/// root) the image's numeric user and group through <c>setpriv</c>, with no supplementary groups. setpriv execs, so the
/// process id is the command's own and a signal reaches it as docker stop's would.</summary>
public sealed class ContainerProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private ContainerProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
    }

    public bool HasExited => _process.HasExited;

    public string Output => string.Join('\n', _output);

    public static ContainerProcess Start(string[] command, IReadOnlyDictionary<string, string> environment, string workdir, string[] user)
    {
        var process = new Process { StartInfo = Info(command, environment, workdir, user) };
        var started = new ContainerProcess(process);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return started;
    }

    /// <summary>Runs a short command to its end (killed after <paramref name="timeout"/>): exit code and output.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(
        string[] command, IReadOnlyDictionary<string, string> environment, string workdir, string[] user, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var process = Process.Start(Info(command, environment, workdir, user))!;
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill();
            return (-1, "timed out after " + timeout);
        }

        return (process.ExitCode, await output + await error);
    }

    /// <summary>The effective uid the kernel reports for the process.</summary>
    public string EffectiveUid() =>
        File.ReadLines($"/proc/{_process.Id.ToString(CultureInfo.InvariantCulture)}/status")
            .First(l => l.StartsWith("Uid:", StringComparison.Ordinal))
            .Split('\t', StringSplitOptions.RemoveEmptyEntries)[2];

    /// <summary>SIGTERM, as docker stop sends, then the exit code (or a failure after <paramref name="within"/>).</summary>
    public async Task<int> StopAsync(TimeSpan within)
    {
        var (exitCode, output, error) = await ExternalTool.RunAsync("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]);
        Assert.True(exitCode == 0, output + error);
        using var limit = new CancellationTokenSource(within);
        await _process.WaitForExitAsync(limit.Token);
        return _process.ExitCode;
    }

    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Gone already.
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private static ProcessStartInfo Info(string[] command, IReadOnlyDictionary<string, string> environment, string workdir, string[] user)
    {
        // The image's `dotnet` is /usr/bin/dotnet; here it is whichever dotnet runs the tests.
        string dotnet = ExternalTool.Find("dotnet") ?? "dotnet";
        string[] resolved = command[0] == "dotnet" ? [dotnet, .. command[1..]] : command;
        string[] full = ImageBuilder.IsRoot ? ["setpriv", $"--reuid={user[0]}", $"--regid={user[1]}", "--clear-groups", "--", .. resolved] : resolved;
        var info = new ProcessStartInfo(full[0])
        {
            WorkingDirectory = workdir,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (string argument in full[1..])
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment.Clear();
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        return info;
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _output.Enqueue(line);
            while (_output.Count > 300 && _output.TryDequeue(out _))
            {
            }
        }
    }
}
