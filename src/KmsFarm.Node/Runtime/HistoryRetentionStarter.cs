using KmsFarm.Activation;
using KmsFarm.Grains;
using KmsFarm.Node.Diagnostics;

namespace KmsFarm.Node.Runtime;

/// <summary>Keeps the farm's history-retention grain running: once the node serves, and every few minutes after, it asks
/// the grain to be active. Every node does, so the grain (one for the farm) comes back on a surviving silo soon after
/// its silo went; the grain's own timer does the work, and the store's claim runs it once per interval farm-wide.</summary>
internal sealed class HistoryRetentionStarter(IGrainFactory grains, HistoryRetentionPolicy policy, ILogger<HistoryRetentionStarter> logger)
    : IHostedLifecycleService, IAsyncDisposable
{
    /// <summary>How often a node checks that the grain is active.</summary>
    public static readonly TimeSpan CheckEvery = TimeSpan.FromMinutes(5);

    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        if (policy.Enabled)
        {
            _loop = Task.Run(() => KeepRunningAsync(_stop.Token), CancellationToken.None);
        }

        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.ConfigureAwait(false);
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _stop.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task KeepRunningAsync(CancellationToken cancellationToken)
    {
        var every = policy.Interval < CheckEvery ? policy.Interval : CheckEvery;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    await grains.GetGrain<IHistoryRetentionGrain>(0).EnsureRunningAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Another node, or the next round, starts it; a failure here never concerns the clients.
                    logger.HistoryRetentionGrainUnreachable(ex, every);
                }

                await Task.Delay(every, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }
}
