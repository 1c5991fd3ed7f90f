using KmsFarm.Activation;
using KmsFarm.Node.Storage;
using KmsFarm.Protocol.Catalog;
using Microsoft.Extensions.Logging.Abstractions;

namespace KmsFarm.TestKit;

/// <summary>Delegates to a real store, or, while <see cref="Failing"/> is set, throws <see cref="IOException"/> from every
/// write and ledger load and reports not ready, as an unreachable database would. Reads of the status views still
/// delegate.</summary>
public sealed class FailingActivationStore(IActivationStore inner) : IActivationStore
{
    /// <summary>While true, loads, commits and refusal appends throw and <see cref="IsReadyAsync"/> answers false.</summary>
    public volatile bool Failing;

    public ValueTask InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public ValueTask<FarmIdentity> GetOrCreateIdentityAsync(Func<FarmIdentity> create, CancellationToken cancellationToken) =>
        inner.GetOrCreateIdentityAsync(create, cancellationToken);

    public ValueTask<StoredLedger> LoadLedgerAsync(ProductGroup group, CancellationToken cancellationToken) =>
        Failing ? throw Unreachable() : inner.LoadLedgerAsync(group, cancellationToken);

    public ValueTask CommitLedgerAsync(LedgerCommit commit, CancellationToken cancellationToken) =>
        Failing ? throw Unreachable() : inner.CommitLedgerAsync(commit, cancellationToken);

    public ValueTask AppendRefusalAsync(ActivationRecord record, CancellationToken cancellationToken) =>
        Failing ? throw Unreachable() : inner.AppendRefusalAsync(record, cancellationToken);

    public ValueTask<LedgerSnapshot> GetLedgerAsync(ProductGroup group, DateTimeOffset now, CancellationToken cancellationToken) =>
        inner.GetLedgerAsync(group, now, cancellationToken);

    public ValueTask<IReadOnlyList<ActivationRecord>> GetHistoryAsync(int limit, CancellationToken cancellationToken) =>
        inner.GetHistoryAsync(limit, cancellationToken);

    public ValueTask<bool> IsReadyAsync(CancellationToken cancellationToken) =>
        Failing ? ValueTask.FromResult(false) : inner.IsReadyAsync(cancellationToken);

    public ValueTask DisposeAsync() => inner.DisposeAsync();

    private static IOException Unreachable() => new("database unreachable");
}

/// <summary>Creates the node's real store for a location wrapped in a <see cref="FailingActivationStore"/>, and keeps the
/// last one created in <see cref="Store"/> so a test can switch it.</summary>
public sealed class FailingActivationStoreFactory : IActivationStoreFactory
{
    /// <summary>The store the node created last; null before the node has started.</summary>
    public FailingActivationStore? Store { get; private set; }

    public IActivationStore Create(StoreLocation location)
    {
        Store = new FailingActivationStore(new StoreFactory(NullLoggerFactory.Instance).Create(location));
        return Store;
    }
}
