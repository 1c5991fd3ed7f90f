using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using KmsFarm.TestKit;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>The real node as a separate OS process: <c>dotnet KmsFarm.Node.dll</c> from the test output folder (the Node
/// project is referenced, so its build sits beside the tests), on free loopback ports, ready once /healthz/ready says so.
/// Killed (SIGKILL) on dispose if still running.</summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private NodeProcess(Process process, IPEndPoint kms, IPEndPoint http)
    {
        _process = process;
        KmsEndPoint = kms;
        HttpEndPoint = http;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
    }

    public IPEndPoint KmsEndPoint { get; }

    public IPEndPoint HttpEndPoint { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines the node wrote (stdout and stderr), for failure messages.</summary>
    public string Output => string.Join('\n', _output);

    public static string NodeAssemblyPath => Path.Combine(AppContext.BaseDirectory, "KmsFarm.Node.dll");

    /// <summary>Starts a node over <paramref name="store"/> and waits until it is ready. A port taken between choosing it
    /// and binding it makes the node exit at once; that is retried with other ports.</summary>
    public static async Task<NodeProcess> StartAsync(string store, string name, IReadOnlyList<string> extraArgs, CancellationToken cancellationToken)
    {
        Assert.True(File.Exists(NodeAssemblyPath), $"{NodeAssemblyPath} is missing: the test project must reference KmsFarm.Node.");
        for (int attempt = 1; ; attempt++)
        {
            var node = Launch(store, name, extraArgs);
            try
            {
                await node.WaitUntilReadyAsync(cancellationToken);
                return node;
            }
            catch (NodeExitedException) when (attempt < 3)
            {
                await node.DisposeAsync();
            }
            catch
            {
                await node.DisposeAsync();
                throw;
            }
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

    private static NodeProcess Launch(string store, string name, IReadOnlyList<string> extraArgs)
    {
        var kms = new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free());
        var http = new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free());
        var info = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        string[] arguments =
        [
            NodeAssemblyPath,
            "--kms-endpoint", kms.ToString(),
            "--http-endpoint", http.ToString(),
            "--store", store,
            "--node-name", name,
            "--log-level", "Warning",
            "--silo-port", LoopbackPorts.Free().ToString(CultureInfo.InvariantCulture),
            "--advertised-address", "127.0.0.1",
            .. extraArgs,
        ];
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var node = new NodeProcess(process, kms, http);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://{HttpEndPoint}"), Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new NodeExitedException($"The node process exited with {_process.ExitCode} before it was ready:\n{Output}");
            }

            try
            {
                if ((await http.GetAsync("/healthz/ready", cancellationToken)).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when ((ex is HttpRequestException or TaskCanceledException) && !cancellationToken.IsCancellationRequested)
            {
                // Not listening yet.
            }

            Assert.True(clock.Elapsed < ReadyWithin, $"The node process was not ready within {ReadyWithin}:\n{Output}");
            await Task.Delay(100, cancellationToken);
        }
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        _output.Enqueue(line);
        while (_output.Count > 200 && _output.TryDequeue(out _))
        {
        }
    }

    /// <summary>The dotnet host running these tests, else the one on PATH.</summary>
    internal static string DotnetHost()
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

    private sealed class NodeExitedException(string message) : Exception(message);
}
