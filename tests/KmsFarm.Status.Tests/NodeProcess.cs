using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using KmsFarm.TestKit;

namespace KmsFarm.Status.Tests;

/// <summary>The real node as its own process (<c>dotnet KmsFarm.Node.dll</c> from the test output folder) on free loopback
/// ports over a SQLite file in a temp directory, ready once /healthz/ready answers 200. Keeps every line it writes
/// (stdout and stderr) for the log assertions. Killed on dispose if still running.</summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(90);

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly string _directory;

    private NodeProcess(Process process, string directory, IPEndPoint kms, IPEndPoint http)
    {
        _process = process;
        _directory = directory;
        KmsEndPoint = kms;
        HttpEndPoint = http;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
    }

    public IPEndPoint KmsEndPoint { get; }

    public IPEndPoint HttpEndPoint { get; }

    public Uri BaseUri => new($"http://{HttpEndPoint}/");

    /// <summary>Every line the node wrote so far.</summary>
    public IReadOnlyList<string> Lines => [.. _lines];

    public static async Task<NodeProcess> StartAsync(string name, IReadOnlyList<string> extraArgs, CancellationToken cancellationToken)
    {
        string path = Path.Combine(AppContext.BaseDirectory, "KmsFarm.Node.dll");
        Assert.True(File.Exists(path), $"{path} is missing: the test project must reference KmsFarm.Node.");
        for (int attempt = 1; ; attempt++)
        {
            var node = Launch(path, name, extraArgs);
            try
            {
                await node.WaitUntilReadyAsync(cancellationToken);
                return node;
            }
            catch (InvalidOperationException) when (attempt < 3)
            {
                // A port taken between choosing and binding it: the node exits at once; try other ports.
                await node.DisposeAsync();
            }
            catch
            {
                await node.DisposeAsync();
                throw;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
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
            try
            {
                Directory.Delete(_directory, recursive: true);
            }
            catch (IOException)
            {
                // Cleaned up with the temp directory eventually.
            }
        }
    }

    private static NodeProcess Launch(string path, string name, IReadOnlyList<string> extraArgs)
    {
        string directory = Path.Combine(Path.GetTempPath(), "kmsfarm-status-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        var kms = new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free());
        var http = new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free());
        var info = new ProcessStartInfo(DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = directory,
        };
        string[] arguments =
        [
            path,
            "--kms-endpoint", kms.ToString(),
            "--http-endpoint", http.ToString(),
            "--store", "sqlite:" + Path.Combine(directory, "node.db"),
            "--node-name", name,
            "--silo-port", LoopbackPorts.Free().ToString(CultureInfo.InvariantCulture),
            "--advertised-address", "127.0.0.1",
            .. extraArgs,
        ];
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        var node = new NodeProcess(process, directory, kms, http);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"The node exited with {_process.ExitCode} before it was ready:\n{string.Join('\n', _lines)}");
            }

            try
            {
                if ((await http.GetAsync("healthz/ready", cancellationToken)).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when ((ex is HttpRequestException or TaskCanceledException) && !cancellationToken.IsCancellationRequested)
            {
                // Not listening yet.
            }

            Assert.True(clock.Elapsed < ReadyWithin, $"The node was not ready within {ReadyWithin}:\n{string.Join('\n', _lines)}");
            await Task.Delay(100, cancellationToken);
        }
    }

    private void Keep(string? line)
    {
        if (line is not null)
        {
            _lines.Enqueue(line);
        }
    }

    private static string DotnetHost()
    {
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } hostPath && File.Exists(hostPath))
        {
            return hostPath;
        }

        return Environment.ProcessPath is { } processPath && Path.GetFileNameWithoutExtension(processPath) == "dotnet" ? processPath : "dotnet";
    }
}
