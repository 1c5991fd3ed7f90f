using Microsoft.Extensions.Logging;

namespace KmsFarm.Activation;

/// <summary>One history purge: claims the run farm-wide (<see cref="IHistoryRetention.TryClaimHistoryPurgeAsync"/>, so
/// it happens once per interval however many nodes try), then deletes the rows older than the retention, oldest first,
/// in small batches with a pause between them, and logs one line.</summary>
public sealed class HistoryPurger(IHistoryRetention store, HistoryRetentionPolicy policy, TimeProvider timeProvider, ILogger logger)
{
    /// <summary>The rows deleted, or null when another run holds this interval (or retention is off).</summary>
    public async Task<long?> RunAsync(CancellationToken cancellationToken)
    {
        if (!policy.Enabled)
        {
            return null;
        }

        var now = timeProvider.GetUtcNow();
        if (!await store.TryClaimHistoryPurgeAsync(now, policy.Interval, cancellationToken).ConfigureAwait(false))
        {
            ActivationLog.HistoryPurgeNotDue(logger, policy.Interval);
            return null;
        }

        var cutoff = now - policy.Retention;
        long deleted = 0;
        int batches = 0;
        long started = timeProvider.GetTimestamp();
        while (true)
        {
            int rows = await store.DeleteHistoryBeforeAsync(cutoff, policy.BatchSize, cancellationToken).ConfigureAwait(false);
            deleted += rows;
            batches++;
            if (rows < policy.BatchSize)
            {
                break;
            }

            await Task.Delay(policy.Pause, timeProvider, cancellationToken).ConfigureAwait(false);
        }

        if (deleted > 0)
        {
            ActivationLog.HistoryPurged(logger, deleted, cutoff, batches, timeProvider.GetElapsedTime(started));
        }
        else
        {
            ActivationLog.HistoryPurgedNothing(logger, cutoff);
        }
        return deleted;
    }
}
