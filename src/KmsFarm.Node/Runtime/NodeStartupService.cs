using KmsFarm.Node.Configuration;
using KmsFarm.Node.Hosting;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Node.Storage;
using KmsFarm.Protocol.Rpc;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Runtime;

/// <summary>Opens the store, loads (or creates) the farm identity and builds the activation service before the silo and
/// Kestrel start (StartingAsync runs before every StartAsync); lets connections be served once everything has started
/// (StartedAsync) and no longer once the node begins to stop (StoppingAsync); disposes the service and the store after
/// Kestrel has drained its connections and the silo has handed its grains over (StoppedAsync runs after every StopAsync).</summary>
/// <remarks>A database server that cannot be reached at start is waited for: each attempt is bounded
/// (<see cref="AttemptTimeout"/>), each failure is one log line with the reason and the next retry, a stop request ends
/// the wait, and meanwhile <see cref="StartupHealthServer"/> answers /healthz on the HTTP endpoint (live, not ready,
/// and why). Waiting happens here, before the silo starts, because Orleans' clustering needs the same database. A
/// database that does not exist or credentials the server refuses stop start-up with one line
/// (<see cref="StoreStartupFailure"/>).</remarks>
internal sealed class NodeStartupService(
    NodeRuntime runtime,
    IActivationStoreFactory storeFactory,
    IOptions<StoreOptions> storeOptions,
    IOptions<KmsListenerOptions> listenerOptions,
    ActivationServiceBuilder serviceBuilder,
    NodeSettings settings,
    IHostApplicationLifetime lifetime,
    ILogger<NodeStartupService> logger) : IHostedLifecycleService
{
    /// <summary>The longest one attempt to open the store may take before it counts as unreachable.</summary>
    public static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(20);

    /// <summary>The longest pause between two attempts (they start at 1 s and double).</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(10);

    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (!StoreLocation.TryParse(storeOptions.Value.Location, out var location, out string? error))
        {
            throw new NodeConfigurationException($"{StoreOptions.SectionName}:Location (--store) {error}.");
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, lifetime.ApplicationStopping);
        var store = storeFactory.Create(location);
        try
        {
            var identity = await OpenAsync(store, location, stop.Token).ConfigureAwait(false);
            bool ndr64 = serviceBuilder.UsesNdr64(identity.HostBuild);
            logger.IdentityLoaded(identity.HostBuild, ndr64, identity.Lcid, identity.Csvlks.Count, identity.Created);
            var service = serviceBuilder.Build(store, identity);
            var rpcOptions = new RpcServerOptions { Ndr64Enabled = ndr64, MaxFragmentLength = listenerOptions.Value.MaxFragmentLength };
            runtime.Load(store, identity, service, rpcOptions);
        }
        catch
        {
            await store.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Opens the store and loads (or creates) the farm identity, waiting for an unreachable database.</summary>
    private async Task<Activation.FarmIdentity> OpenAsync(Activation.IActivationStore store, StoreLocation location, CancellationToken cancellationToken)
    {
        StartupHealthServer? health = null;
        var waiting = System.Diagnostics.Stopwatch.StartNew();
        var delay = TimeSpan.FromSeconds(1);
        try
        {
            for (int attempt = 1; ; attempt++)
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(AttemptTimeout);
                try
                {
                    await store.InitializeAsync(timeout.Token).ConfigureAwait(false);
                    var identity = await store.GetOrCreateIdentityAsync(serviceBuilder.CreateIdentity, timeout.Token).ConfigureAwait(false);
                    logger.StoreOpened(location.Redacted);
                    if (attempt > 1)
                    {
                        logger.StoreReachedAfterWaiting(location.Redacted, attempt, waiting.Elapsed);
                    }

                    return identity;
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    string? transient = null;
                    string? fatal = ex is OperationCanceledException ? null : StoreStartupFailure.Classify(ex, out transient);
                    if (ex is OperationCanceledException)
                    {
                        transient = $"no answer within {AttemptTimeout.TotalSeconds:0} s";
                    }

                    if (fatal is not null)
                    {
                        throw new NodeStartupException($"{StoreOptions.SectionName}:Location (--store) {location.Redacted}: {fatal}.", ex);
                    }

                    if (transient is null)
                    {
                        throw;
                    }

                    logger.StoreUnreachable(location.Redacted, transient, attempt, (int)delay.TotalSeconds);
                    string reason = $"waiting for the database ({transient}); attempt {attempt} failed, next in {delay.TotalSeconds:0} s";
                    if (health is null)
                    {
                        health = await StartupHealthServer.StartAsync(settings.Listeners.Single(l => l.EndPoint == settings.HttpEndPoint), reason, cancellationToken)
                            .ConfigureAwait(false);
                    }
                    else
                    {
                        health.Reason = reason;
                    }
                }

                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
        finally
        {
            if (health is not null)
            {
                await health.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        runtime.SetServing(true);
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        runtime.SetServing(false);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppedAsync(CancellationToken cancellationToken)
    {
        if (runtime.Unload() is not { } loaded)
        {
            return;
        }

        try
        {
            // Commits activations still queued in the service's batches before the store goes away.
            await loaded.Service.DisposeAsync().ConfigureAwait(false);

            await loaded.Store.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            logger.StoreDisposeFailed(ex);
        }
    }
}
