using System.Net;

namespace KmsFarm.Node.Hosting;

/// <summary>While start-up waits for the database, the node's own HTTP listener is not up yet (it starts after the store
/// and the silo). This small server holds the HTTP endpoint meanwhile, so an orchestrator sees the process alive
/// (<c>/healthz/live</c> 200) and not ready with the reason (<c>/healthz/ready</c> 503). It is started only when the
/// first attempt fails, and released before the node's listener binds the endpoint.</summary>
internal sealed class StartupHealthServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private volatile string _reason;

    private StartupHealthServer(WebApplication app, string reason)
    {
        _app = app;
        _reason = reason;
    }

    /// <summary>Why the node is not ready (shown by /healthz/ready).</summary>
    public string Reason
    {
        get => _reason;
        set => _reason = value;
    }

    public static async Task<StartupHealthServer> StartAsync(NodeListener http, string reason, CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.UseSockets(sockets => sockets.CreateBoundListenSocket = endPoint => ListenSockets.Bind((IPEndPoint)endPoint, http.Setting));
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Listen(http.EndPoint));
        var app = builder.Build();
        var server = new StartupHealthServer(app, reason);
        app.MapGet("/healthz/live", () => Results.Text("live\n"));
        app.MapGet("/healthz/ready", () => Results.Text("not ready: " + server.Reason + "\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        app.MapFallback(() => Results.Text("starting: " + server.Reason + "\n", statusCode: StatusCodes.Status503ServiceUnavailable));
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None).ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
