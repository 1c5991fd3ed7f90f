using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace KmsFarm.TestKit;

/// <summary>A serving node as its own OS process (<see cref="NodeCommand"/>: <c>dotnet KmsFarm.Node.dll</c> from the test
/// output folder) on free loopback ports, ready once /healthz/ready answers 200. Without a store it runs on a SQLite file in
/// a fresh temp directory (its working directory, removed on dispose). Killed (SIGKILL) on dispose if still running.</summary>
public sealed class NodeProcess : IAsyncDisposable
{
    public static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(90);

    private readonly NodeCommand _command;
    private readonly string? _directory;

    private NodeProcess(NodeCommand command, string? directory, IPEndPoint kms, IPEndPoint http)
    {
        _command = command;
        _directory = directory;
        KmsEndPoint = kms;
        HttpEndPoint = http;
    }

    public IPEndPoint KmsEndPoint { get; }

    public IPEndPoint HttpEndPoint { get; }

    /// <summary>The node's HTTP root, <c>http://127.0.0.1:PORT/</c>.</summary>
    public Uri BaseUri => new($"http://{HttpEndPoint}/");

    public int Id => _command.Id;

    public bool HasExited => _command.HasExited;

    public int ExitCode => _command.ExitCode;

    /// <summary>The lines the node wrote so far (stdout, then stderr; the last 2000 of each).</summary>
    public IReadOnlyList<string> Lines => [.. _command.StandardOutput, .. _command.StandardError];

    /// <summary>Both streams, for failure messages.</summary>
    public string Output => _command.Output;

    /// <summary>Starts a node and waits until it is ready. <paramref name="store"/> is a <c>--store</c> value, or null for a
    /// SQLite file in a temp directory. The node logs at Warning unless <paramref name="extraArgs"/> gives
    /// <c>--log-level</c>. A port taken between choosing it and binding it makes the node exit at once; that is retried with
    /// other ports. Throws <see cref="TimeoutException"/> when it is not ready within <see cref="ReadyWithin"/>.</summary>
    public static async Task<NodeProcess> StartAsync(string? store, string name, IReadOnlyList<string> extraArgs, CancellationToken cancellationToken)
    {
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

    /// <summary>A node on a SQLite file of its own (see the other overload).</summary>
    public static Task<NodeProcess> StartAsync(string name, IReadOnlyList<string> extraArgs, CancellationToken cancellationToken) =>
        StartAsync(null, name, extraArgs, cancellationToken);

    /// <summary>SIGKILL: no shutdown hook, no flush, no goodbye.</summary>
    public Task KillAsync(CancellationToken cancellationToken) => _command.KillAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _command.DisposeAsync();
        if (_directory is not null)
        {
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

    private static NodeProcess Launch(string? store, string name, IReadOnlyList<string> extraArgs)
    {
        string? directory = null;
        if (store is null)
        {
            directory = Path.Combine(Path.GetTempPath(), "kmsfarm-node-processes", Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            store = "sqlite:" + Path.Combine(directory, "node.db");
        }

        var kms = new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free());
        var http = new IPEndPoint(IPAddress.Loopback, LoopbackPorts.Free());
        List<string> arguments =
        [
            "--kms-endpoint", kms.ToString(),
            "--http-endpoint", http.ToString(),
            "--store", store,
            "--node-name", name,
            "--silo-port", LoopbackPorts.Free().ToString(CultureInfo.InvariantCulture),
            "--advertised-address", "127.0.0.1",
        ];
        if (!extraArgs.Contains("--log-level"))
        {
            arguments.AddRange(["--log-level", "Warning"]);
        }

        arguments.AddRange(extraArgs);
        return new NodeProcess(NodeCommand.Start(arguments, directory), directory, kms, http);
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = BaseUri, Timeout = TimeSpan.FromSeconds(5) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (HasExited)
            {
                throw new NodeExitedException($"The node process exited with {ExitCode} before it was ready:\n{Output}");
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

            if (clock.Elapsed > ReadyWithin)
            {
                throw new TimeoutException($"The node process was not ready within {ReadyWithin}:\n{Output}");
            }

            await Task.Delay(100, cancellationToken);
        }
    }

    private sealed class NodeExitedException(string message) : Exception(message);
}
