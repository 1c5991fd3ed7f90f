using KmsFarm.Activation;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Node.Hosting;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Runtime;

/// <summary>Records this node in the store's <see cref="INodeRegistry"/> once it listens (the endpoints as bound, the
/// build, the start time) and heart-beats every <see cref="NodeOptions.HeartbeatInterval"/>, registering again when the
/// entry is missing. Membership is informational: a failing registry is logged at Warning and never stops the node, and
/// no node reads another's entry to serve.</summary>
/// <remarks>Registers in StartedAsync (after Kestrel has bound, so port 0 shows the real port) and stops heart-beating
/// in StopAsync, which runs after Kestrel has drained and before the store is disposed (NodeStartupService.StoppedAsync).
/// Nothing is removed on stop: a stopped node shows as gone once its last heartbeat is older than the threshold.</remarks>
internal sealed class NodeRegistrationService(
    NodeRuntime runtime,
    NodeEndpoints endpoints,
    IOptions<NodeOptions> nodeOptions,
    TimeProvider timeProvider,
    ILogger<NodeRegistrationService> logger) : IHostedLifecycleService, IDisposable
{
    /// <summary>How long start-up waits for the first registration before leaving it to the heartbeat loop.</summary>
    private static readonly TimeSpan FirstRegistrationTimeout = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _stop = new();
    private DateTimeOffset _started;
    private Task? _loop;

    public Task StartingAsync(CancellationToken cancellationToken)
    {
        _started = timeProvider.GetUtcNow();
        return Task.CompletedTask;
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StartedAsync(CancellationToken cancellationToken)
    {
        string name = nodeOptions.Value.Name;
        if (runtime.RegistryOrNull is not { } registry)
        {
            logger.NodeRegistryMissing(name);
            return;
        }

        string[] listening =
        [
            .. endpoints.KmsEndPoints.Select(e => "tcp://" + e),
            .. endpoints.HttpEndPoint is { } http ? ["http://" + http] : Array.Empty<string>(),
        ];
        var registration = new NodeRegistration(name, listening, NodeBuild.Version, _started);
        bool registered;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stop.Token))
        {
            timeout.CancelAfter(FirstRegistrationTimeout);
            registered = await TryRegisterAsync(registry, registration, timeout.Token).ConfigureAwait(false);
        }

        _loop = HeartbeatLoopAsync(registry, registration, registered, _stop.Token);
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _stop.Dispose();

    private async Task HeartbeatLoopAsync(INodeRegistry registry, NodeRegistration registration, bool registered, CancellationToken cancellationToken)
    {
        var interval = nodeOptions.Value.HeartbeatInterval;
        using var timer = new PeriodicTimer(interval, timeProvider);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                if (!registered)
                {
                    registered = await TryRegisterAsync(registry, registration, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                try
                {
                    if (!await registry.HeartbeatAsync(registration.Name, cancellationToken).ConfigureAwait(false))
                    {
                        // The entry is gone (removed by hand, or a fresh database): announce the node again.
                        registered = await TryRegisterAsync(registry, registration, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    logger.NodeHeartbeatFailed(ex, registration.Name, interval);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private async Task<bool> TryRegisterAsync(INodeRegistry registry, NodeRegistration registration, CancellationToken cancellationToken)
    {
        try
        {
            await registry.RegisterAsync(registration, cancellationToken).ConfigureAwait(false);
            logger.NodeRegistered(registration.Name, string.Join(", ", registration.Endpoints), registration.Version);
            return true;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !_stop.IsCancellationRequested)
        {
            logger.NodeRegistrationFailed(ex, registration.Name);
            return false;
        }
    }
}
