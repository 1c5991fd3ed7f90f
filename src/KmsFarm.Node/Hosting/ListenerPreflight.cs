namespace KmsFarm.Node.Hosting;

/// <summary>First thing at start (before the store, the silo and Kestrel): every listener the settings name is bound
/// once and released, so a port another process holds stops start-up at once, naming the endpoint and its setting,
/// instead of after the database wait or halfway through the silo's start.</summary>
internal sealed class ListenerPreflight(NodeSettings settings) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken)
    {
        ListenSockets.Probe(settings.Listeners);
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
