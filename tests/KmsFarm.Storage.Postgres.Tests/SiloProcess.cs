using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using KmsFarm.TestKit;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>KmsFarm.TestSilo as a separate OS process (<c>dotnet KmsFarm.TestSilo.dll</c> from the test output folder), so a
/// test can kill a silo the way a crash or the OOM killer does. Ready once it prints "ready &lt;silo address&gt;"; killed
/// (SIGKILL) on dispose if still running.</summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SiloProcess(Process process, string name)
    {
        _process = process;
        Name = name;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.Exited += (_, _) => _ready.TrySetException(new SiloExitedException($"The silo process exited before it was ready:\n{Output}"));
        _process.EnableRaisingEvents = true;
    }

    public string Name { get; }

    /// <summary>Orleans' parsable form (address:port@generation), as printed by the process.</summary>
    public string? Address { get; private set; }

    public int Port { get; private set; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines the process wrote (its warnings and errors go to stderr).</summary>
    public string Output => string.Join('\n', _output);

    private static string AssemblyPath => Path.Combine(AppContext.BaseDirectory, "KmsFarm.TestSilo.dll");

    public static async Task<SiloProcess> StartAsync(string connectionString, string clusterId, string name,
        CancellationToken cancellationToken, bool orleansDefaults = false)
    {
        Assert.True(File.Exists(AssemblyPath), $"{AssemblyPath} is missing: the test project must reference KmsFarm.TestSilo.");
        for (int attempt = 1; ; attempt++)
        {
            int port = LoopbackPorts.Free();
            var silo = Launch(connectionString, clusterId, name, port, orleansDefaults);
            try
            {
                silo.Address = await silo._ready.Task.WaitAsync(ReadyWithin, cancellationToken);
                silo.Port = port;
                return silo;
            }
            catch (SiloExitedException) when (attempt < 3)
            {
                // Most likely the port was taken meanwhile; try another.
                await silo.DisposeAsync();
            }
            catch
            {
                await silo.DisposeAsync();
                throw;
            }
        }
    }

    /// <summary>SIGKILL (what <see cref="Process.Kill()"/> sends on Linux): no shutdown, no goodbye to the cluster; the
    /// kernel closes its sockets.</summary>
    public async Task KillAsync(CancellationToken cancellationToken)
    {
        _process.Kill();
        await _process.WaitForExitAsync(cancellationToken);
    }

    /// <summary>SIGSTOP: the process freezes with its sockets open, which is how a hung process, a frozen VM or a host
    /// cut off by the network looks to its peers (no FIN, no RST). Dispose still kills it.</summary>
    public async Task FreezeAsync(CancellationToken cancellationToken)
    {
        using var kill = Process.Start("kill", ["-STOP", _process.Id.ToString(CultureInfo.InvariantCulture)])
            ?? throw new InvalidOperationException("Could not run kill.");
        await kill.WaitForExitAsync(cancellationToken);
        Assert.Equal(0, kill.ExitCode);
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

    public override string ToString() => $"{Name} {Address}";

    private static SiloProcess Launch(string connectionString, string clusterId, string name, int port, bool orleansDefaults)
    {
        var info = new ProcessStartInfo(NodeCommand.DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        string[] arguments =
        [
            AssemblyPath,
            "--ConnectionString=" + connectionString,
            "--ClusterId=" + clusterId,
            "--SiloPort=" + port.ToString(CultureInfo.InvariantCulture),
            "--Name=" + name,
            "--OrleansDefaults=" + (orleansDefaults ? "true" : "false"),
        ];
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var silo = new SiloProcess(process, name);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return silo;
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        if (line.StartsWith("ready ", StringComparison.Ordinal))
        {
            _ready.TrySetResult(line["ready ".Length..]);
        }

        _output.Enqueue(line);
        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
        }
    }

    private sealed class SiloExitedException(string message) : Exception(message);
}
