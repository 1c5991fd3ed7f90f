using System.Net;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace KmsFarm.TestKit;

/// <summary>An in-process node on 127.0.0.1 with ephemeral KMS and HTTP ports and its own temp directory. Its store is
/// a SQLite file in that directory unless a store location is given (e.g. <c>postgres:…</c>; several such nodes over one
/// database are a farm). Stop and start it again to test restarts (same database, new ports).</summary>
public sealed class InProcessNode : IAsyncDisposable
{
    private readonly IReadOnlyList<string> _extraArgs;
    private readonly Action<WebApplicationBuilder>? _configure;
    private readonly string? _store;
    private WebApplication? _app;

    private InProcessNode(string directory, string name, string? store, IReadOnlyList<string> extraArgs, Action<WebApplicationBuilder>? configure)
    {
        Directory = directory;
        Name = name;
        _store = store;
        _extraArgs = extraArgs;
        _configure = configure;
    }

    public string Directory { get; }

    public string Name { get; }

    public string DatabasePath => Path.Combine(Directory, "node.db");

    public IPEndPoint KmsEndPoint { get; private set; } = null!;

    public IPEndPoint HttpEndPoint { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    /// <summary>The node's silo-to-silo port (a free one chosen at each start unless <c>--silo-port</c> was given).</summary>
    public int SiloPort { get; private set; }

    public IServiceProvider Services => _app?.Services ?? throw new InvalidOperationException("The node is not running.");

    /// <param name="store">The <c>--store</c> value; null for a SQLite file in the node's temp directory.</param>
    public static async Task<InProcessNode> StartAsync(
        IReadOnlyList<string>? extraArgs = null,
        Action<WebApplicationBuilder>? configure = null,
        string? store = null,
        string name = "test-node",
        CancellationToken cancellationToken = default)
    {
        string directory = Path.Combine(Path.GetTempPath(), "kmsfarm-node-tests", Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(directory);
        var host = new InProcessNode(directory, name, store, extraArgs ?? [], configure);
        try
        {
            await host.StartAsync(cancellationToken);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        // A flag is given once (the node refuses it twice): the test's own flags replace these defaults.
        string[][] defaults =
        [
            ["--kms-endpoint", "127.0.0.1:0"],
            ["--http-endpoint", "127.0.0.1:0"],
            ["--store", _store ?? "sqlite:" + DatabasePath],
            ["--node-name", Name],
            ["--log-level", "Warning"],
        ];
        string[] args = [.. defaults.Where(d => !_extraArgs.Contains(d[0])).SelectMany(d => d), .. _extraArgs];
        int siloFlag = _extraArgs.ToList().IndexOf("--silo-port");
        if (siloFlag >= 0)
        {
            SiloPort = int.Parse(_extraArgs[siloFlag + 1], System.Globalization.CultureInfo.InvariantCulture);
        }

        if (!_extraArgs.Contains("--advertised-address"))
        {
            args = [.. args, "--advertised-address", "127.0.0.1"];
        }

        WebApplication app;
        for (int attempt = 1; ; attempt++)
        {
            string[] attemptArgs = args;
            if (siloFlag < 0)
            {
                // Every in-process node is a silo: each needs its own silo-to-silo port, and farm nodes reach each other on loopback.
                SiloPort = LoopbackPorts.Free();
                attemptArgs = [.. args, "--silo-port", SiloPort.ToString(System.Globalization.CultureInfo.InvariantCulture)];
            }

            app = NodeApplication.Create(attemptArgs, _configure, contentRoot: Directory);
            try
            {
                await app.StartAsync(cancellationToken);
                break;
            }
            catch (NodeStartupException ex) when (siloFlag < 0 && attempt < 3 && ex.Message.Contains("--silo-port", StringComparison.Ordinal))
            {
                // Another process took the chosen port between the choice and the bind: choose again.
                await app.DisposeAsync();
            }
        }

        _app = app;
        var endpoints = app.Services.GetRequiredService<NodeEndpoints>();
        KmsEndPoint = endpoints.KmsEndPoints.Single();
        HttpEndPoint = endpoints.HttpEndPoint!;
        Http = new HttpClient { BaseAddress = new Uri($"http://{HttpEndPoint}") };
    }

    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (_app is { } app)
        {
            _app = null;
            Http.Dispose();
            await app.StopAsync(cancellationToken);
            await app.DisposeAsync();
        }
    }

    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        await StopAsync(cancellationToken);
        await StartAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by the OS; the temp directory is cleaned eventually.
        }
    }
}
