using KmsFarm.Activation;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Grains;

/// <summary>Runs <see cref="HistoryPurger"/> on a grain timer that keeps the grain alive. The timer ticks every interval,
/// at most hourly, so a grain that moved to another silo catches up within the hour; the store's claim decides whether a
/// tick purges.</summary>
public sealed class HistoryRetentionGrain(
    IActivationStore store, HistoryRetentionPolicy policy, TimeProvider timeProvider, ILogger<HistoryRetentionGrain> logger) : Grain, IHistoryRetentionGrain
{
    /// <summary>The longest time between two checks of the claim.</summary>
    public static readonly TimeSpan MaxTick = TimeSpan.FromHours(1);

    private HistoryPurger? _purger;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (policy.Enabled && store is IHistoryRetention retention)
        {
            _purger = new HistoryPurger(retention, policy, timeProvider, logger);
            var tick = policy.Interval < MaxTick ? policy.Interval : MaxTick;
            this.RegisterGrainTimer(ct => RunNowAsync(ct), new GrainTimerCreationOptions(TimeSpan.FromSeconds(1), tick) { KeepAlive = true });
        }

        return Task.CompletedTask;
    }

    public Task EnsureRunningAsync() => Task.CompletedTask;

    public Task<long?> RunNowAsync() => RunNowAsync(CancellationToken.None);

    private async Task<long?> RunNowAsync(CancellationToken cancellationToken) =>
        _purger is { } purger ? await purger.RunAsync(cancellationToken) : null;
}
