namespace KmsFarm.Activation;

/// <summary>What the farm's history retention needs of a store (both stores implement it): a farm-wide claim on each
/// purge run, and deletion of old history in small batches.</summary>
public interface IHistoryRetention
{
    /// <summary>Claims the history purge: true for exactly one caller per <paramref name="interval"/> across every node of
    /// the farm (the store records when the last run started and moves it forward only if that is at least
    /// <paramref name="interval"/> before <paramref name="now"/>, in one statement), false for everyone else.</summary>
    ValueTask<bool> TryClaimHistoryPurgeAsync(DateTimeOffset now, TimeSpan interval, CancellationToken cancellationToken);

    /// <summary>Deletes at most <paramref name="batchSize"/> of the oldest history rows recorded before
    /// <paramref name="cutoff"/>, in one short transaction, and returns how many it deleted (fewer than the batch: no more
    /// are left).</summary>
    ValueTask<int> DeleteHistoryBeforeAsync(DateTimeOffset cutoff, int batchSize, CancellationToken cancellationToken);
}
