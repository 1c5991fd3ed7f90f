using System.Net;
using KmsFarm.Activation;
using KmsFarm.Client;
using KmsFarm.Node.Hosting;
using KmsFarm.Node.Runtime;
using KmsFarm.Protocol.Kms;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>An in-process KmsFarm node on 127.0.0.1 (ephemeral KMS and HTTP ports) whose store is
/// <c>postgres:CONNECTION-STRING</c>. Several over one database are a farm. Restarting gives new ports, same database.</summary>
internal sealed class FarmNode : IAsyncDisposable
{
    private readonly string _store;
    private readonly string _directory;
    private readonly IReadOnlyList<string> _extraArgs;
    private WebApplication? _app;

    private FarmNode(string store, string name, IReadOnlyList<string> extraArgs)
    {
        _store = store;
        _extraArgs = extraArgs;
        Name = name;
        _directory = Path.Combine(Path.GetTempPath(), "kmsfarm-farm-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
    }

    public string Name { get; }

    public IPEndPoint KmsEndPoint { get; private set; } = null!;

    public IPEndPoint HttpEndPoint { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public FarmIdentity Identity => (_app ?? throw new InvalidOperationException("not running")).Services.GetRequiredService<NodeRuntime>().Identity;

    /// <param name="connectionString">Key=Value form; or give the whole <paramref name="store"/> value instead.</param>
    /// <param name="extraArgs">More command-line flags, e.g. a short heartbeat.</param>
    public static async Task<FarmNode> StartAsync(
        string connectionString, string name, CancellationToken cancellationToken, string? store = null, IReadOnlyList<string>? extraArgs = null)
    {
        var node = new FarmNode(store ?? "postgres:" + connectionString, name, extraArgs ?? []);
        try
        {
            await node.StartAsync(cancellationToken);
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    public static async Task<FarmNode[]> StartManyAsync(string connectionString, int count, CancellationToken cancellationToken) =>
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => StartAsync(connectionString, "node-" + (char)('a' + i), cancellationToken)));

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        string[] args =
        [
            "--kms-endpoint", "127.0.0.1:0",
            "--http-endpoint", "127.0.0.1:0",
            "--store", _store,
            "--node-name", Name,
            "--log-level", "Warning",
            .. _extraArgs,
        ];
        var app = NodeApplication.Create(args, contentRoot: _directory);
        await app.StartAsync(cancellationToken);
        _app = app;
        var endpoints = app.Services.GetRequiredService<NodeEndpoints>();
        KmsEndPoint = endpoints.KmsEndPoints.Single();
        HttpEndPoint = endpoints.HttpEndPoint!;
        Http = new HttpClient { BaseAddress = new Uri($"http://{HttpEndPoint}") };
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is { } app)
        {
            _app = null;
            Http.Dispose();
            await app.StopAsync(cancellationToken);
            await app.DisposeAsync();
        }
    }

    /// <summary>One activation over a fresh connection, as a Windows or Office machine does it.</summary>
    public async Task<KmsActivationResult> ActivateAsync(ClientProduct product, Guid cmid, string workstation, CancellationToken cancellationToken)
    {
        await using var client = await KmsClientConnection.ConnectAsync("127.0.0.1", KmsEndPoint.Port, null, cancellationToken);
        var request = KmsRequestFactory.Create(product, cmid, workstation, KmsProtocolVersion.V6, DateTime.UtcNow);
        return await client.ActivateAsync(KmsProtocolVersion.V6, request, cancellationToken);
    }

    /// <summary>This node's <c>GET /api/nodes</c>.</summary>
    public async Task<IReadOnlyList<ListedNode>> ListNodesAsync(CancellationToken cancellationToken) =>
        await ListedNode.GetAsync(Http, cancellationToken);

    public async Task<HttpStatusCode> ReadyAsync(CancellationToken cancellationToken) =>
        (await Http.GetAsync("/healthz/ready", cancellationToken)).StatusCode;

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Cleaned with the temp dir eventually.
        }
    }
}
