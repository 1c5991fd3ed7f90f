using KmsFarm.Node.Configuration;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Node.Storage;
using KmsFarm.Protocol.Rpc;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Runtime;

/// <summary>Opens the store, loads (or creates) the farm identity and builds the activation service before the silo and
/// Kestrel start (StartingAsync runs before every StartAsync); lets connections be served once everything has started
/// (StartedAsync) and no longer once the node begins to stop (StoppingAsync); disposes the service and the store after
/// Kestrel has drained its connections and the silo has handed its grains over (StoppedAsync runs after every StopAsync).</summary>
internal sealed class NodeStartupService(
    NodeRuntime runtime,
    IActivationStoreFactory storeFactory,
    IOptions<StoreOptions> storeOptions,
    IOptions<KmsListenerOptions> listenerOptions,
    ActivationServiceBuilder serviceBuilder,
    ILogger<NodeStartupService> logger) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        if (!StoreLocation.TryParse(storeOptions.Value.Location, out var location, out string? error))
        {
            throw new NodeConfigurationException($"{StoreOptions.SectionName}:Location (--store) {error}.");
        }

        var store = storeFactory.Create(location);
        try
        {
            await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
            logger.StoreOpened(location.Redacted);
            var identity = await store.GetOrCreateIdentityAsync(serviceBuilder.CreateIdentity, cancellationToken).ConfigureAwait(false);
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
