using System.Diagnostics;
using KmsFarm.Activation;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Node.Storage;

/// <summary>Measures the store calls on the serving path (<see cref="StoreMetrics"/>) and forwards everything to the real
/// store. The node's store factory wraps every store it opens in one, so the grains and the activation service both use
/// it. History retention is forwarded too (both stores implement it); a store without it never claims a purge.</summary>
public sealed class MeteredActivationStore(IActivationStore inner, StoreMetrics metrics) : IActivationStore, IHistoryRetention
{
    /// <summary>The store this one measures.</summary>
    public IActivationStore Inner => inner;

    public ValueTask InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public ValueTask<FarmIdentity> GetOrCreateIdentityAsync(Func<FarmIdentity> create, CancellationToken cancellationToken) =>
        inner.GetOrCreateIdentityAsync(create, cancellationToken);

    public async ValueTask<StoredLedger> LoadLedgerAsync(ProductGroup group, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            var ledger = await inner.LoadLedgerAsync(group, cancellationToken).ConfigureAwait(false);
            metrics.Completed(StoreMetrics.LoadLedger, group, started, null, null);
            return ledger;
        }
        catch (Exception ex)
        {
            metrics.Completed(StoreMetrics.LoadLedger, group, started, null, ex);
            throw;
        }
    }

    public async ValueTask CommitLedgerAsync(LedgerCommit commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commit);
        long started = Stopwatch.GetTimestamp();
        try
        {
            await inner.CommitLedgerAsync(commit, cancellationToken).ConfigureAwait(false);
            metrics.Completed(StoreMetrics.CommitLedger, commit.Group, started, commit.Records.Count, null);
        }
        catch (Exception ex)
        {
            metrics.Completed(StoreMetrics.CommitLedger, commit.Group, started, commit.Records.Count, ex);
            throw;
        }
    }

    public async ValueTask AppendRefusalAsync(ActivationRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        long started = Stopwatch.GetTimestamp();
        try
        {
            await inner.AppendRefusalAsync(record, cancellationToken).ConfigureAwait(false);
            metrics.Completed(StoreMetrics.AppendRefusal, record.Group, started, null, null);
        }
        catch (Exception ex)
        {
            metrics.Completed(StoreMetrics.AppendRefusal, record.Group, started, null, ex);
            throw;
        }
    }

    public async ValueTask<int?> CountClientsSeenSinceAsync(ProductGroup group, DateTimeOffset since, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        try
        {
            int? clients = await inner.CountClientsSeenSinceAsync(group, since, cancellationToken).ConfigureAwait(false);
            metrics.Completed(StoreMetrics.CountClients, group, started, null, null);
            return clients;
        }
        catch (Exception ex)
        {
            metrics.Completed(StoreMetrics.CountClients, group, started, null, ex);
            throw;
        }
    }

    public ValueTask<LedgerSnapshot> GetLedgerAsync(ProductGroup group, DateTimeOffset now, CancellationToken cancellationToken) =>
        inner.GetLedgerAsync(group, now, cancellationToken);

    public ValueTask<IReadOnlyList<ActivationRecord>> GetHistoryAsync(int limit, CancellationToken cancellationToken) =>
        inner.GetHistoryAsync(limit, cancellationToken);

    public ValueTask<IReadOnlyList<RequestTotal>?> GetRequestTotalsAsync(CancellationToken cancellationToken) =>
        inner.GetRequestTotalsAsync(cancellationToken);

    public ValueTask<ClientPage?> QueryClientsAsync(ClientQuery query, CancellationToken cancellationToken) =>
        inner.QueryClientsAsync(query, cancellationToken);

    public ValueTask<HistoryPage?> QueryHistoryAsync(HistoryQuery query, CancellationToken cancellationToken) =>
        inner.QueryHistoryAsync(query, cancellationToken);

    public ValueTask<bool> IsReadyAsync(CancellationToken cancellationToken) => inner.IsReadyAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    public ValueTask<bool> TryClaimHistoryPurgeAsync(DateTimeOffset now, TimeSpan interval, CancellationToken cancellationToken) =>
        inner is IHistoryRetention retention ? retention.TryClaimHistoryPurgeAsync(now, interval, cancellationToken) : ValueTask.FromResult(false);

    public ValueTask<int> DeleteHistoryBeforeAsync(DateTimeOffset cutoff, int batchSize, CancellationToken cancellationToken) =>
        inner is IHistoryRetention retention ? retention.DeleteHistoryBeforeAsync(cutoff, batchSize, cancellationToken) : ValueTask.FromResult(0);
}
