using System.Net;
using KmsFarm.Activation;
using KmsFarm.Client;
using KmsFarm.Node.Runtime;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>An in-process KmsFarm node on 127.0.0.1 (ephemeral KMS and HTTP ports) whose store is
/// <c>postgres:CONNECTION-STRING</c>. Several over one database are a farm. Restarting gives new ports, same database.</summary>
internal sealed class FarmNode : IAsyncDisposable
{
    private readonly InProcessNode _node;

    private FarmNode(InProcessNode node) => _node = node;

    public string Name => _node.Name;

    public IPEndPoint KmsEndPoint => _node.KmsEndPoint;

    public IPEndPoint HttpEndPoint => _node.HttpEndPoint;

    public HttpClient Http => _node.Http;

    public IServiceProvider Services => _node.Services;

    public FarmIdentity Identity => _node.Services.GetRequiredService<NodeRuntime>().Identity;

    /// <param name="connectionString">Key=Value form; or give the whole <paramref name="store"/> value instead.</param>
    /// <param name="extraArgs">More command-line flags, e.g. a short heartbeat.</param>
    public static async Task<FarmNode> StartAsync(
        string connectionString, string name, CancellationToken cancellationToken, string? store = null, IReadOnlyList<string>? extraArgs = null) =>
        new(await InProcessNode.StartAsync(extraArgs, null, store ?? "postgres:" + connectionString, name, cancellationToken));

    public static async Task<FarmNode[]> StartManyAsync(string connectionString, int count, CancellationToken cancellationToken) =>
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => StartAsync(connectionString, "node-" + (char)('a' + i), cancellationToken)));

    public Task StartAsync(CancellationToken cancellationToken) => _node.StartAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => _node.StopAsync(cancellationToken);

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

    public ValueTask DisposeAsync() => _node.DisposeAsync();
}
