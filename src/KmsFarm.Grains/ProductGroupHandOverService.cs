using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Grains;

/// <summary>Hands this silo's product groups over when the node stops gracefully, before the silo starts to shut down:
/// each local product-group grain stops taking new batches (callers are told <see cref="ApplyResult.HandedOver"/> and send
/// them again, which activates the group on another silo), commits and answers what it has queued, and deactivates. Done
/// in StoppingAsync, while this node still serves its own connections and the silo's messaging is fully up, so no answer
/// for a committed activation is lost in the silo's shutdown.</summary>
public sealed partial class ProductGroupHandOverService(
    LocalProductGroups localGroups, IGrainFactory grainFactory, ILogger<ProductGroupHandOverService> logger) : IHostedLifecycleService
{
    /// <summary>How long one group may take to commit what it has queued before the stop goes on without waiting.</summary>
    public static readonly TimeSpan HandOverTimeout = TimeSpan.FromSeconds(10);

    /// <summary>How long the silo keeps running normally after a hand-over before its shutdown begins: answers already on
    /// their way reach their callers, and calls sent with a stale directory entry are forwarded to the group's new
    /// activation rather than refused by a shutting-down silo (which callers cannot tell from a lost answer).</summary>
    public static readonly TimeSpan QuietPeriod = TimeSpan.FromMilliseconds(500);

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        localGroups.Close();
        if (cancellationToken.IsCancellationRequested)
        {
            // Not a graceful stop: nothing to wait for.
            return;
        }

        var groups = localGroups.Current;
        foreach (var group in groups)
        {
            try
            {
                await grainFactory.GetGrain<IProductGroupGrain>(ProductGroupGrainKey.For(group)).HandOverAsync()
                    .WaitAsync(HandOverTimeout, cancellationToken).ConfigureAwait(false);
                HandedOver(logger, group.ToString());
            }
            catch (Exception ex) when (ex is TimeoutException or OperationCanceledException or OrleansException)
            {
                HandOverFailed(logger, ex, group.ToString());
            }
        }

        if (groups.Count > 0)
        {
            try
            {
                await Task.Delay(QuietPeriod, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // The stop was made hurried meanwhile.
            }
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(3103, LogLevel.Information, "Product group {Group} handed over: its queue is committed and answered, the next call activates it on another silo", EventName = "HandedOver")]
    private static partial void HandedOver(ILogger logger, string group);

    [LoggerMessage(3104, LogLevel.Warning, "Handing product group {Group} over did not finish; the silo's shutdown deactivates it", EventName = "HandOverFailed")]
    private static partial void HandOverFailed(ILogger logger, Exception exception, string group);
}
