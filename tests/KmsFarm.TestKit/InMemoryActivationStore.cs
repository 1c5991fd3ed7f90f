using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.TestKit;

/// <summary>A real <see cref="IActivationStore"/> in memory, for tests and benchmarks: one <see cref="ProductGroupLedger"/>
/// per group behind its own lock, an append-only history and the first identity created. <see cref="BeforeApply"/> lets
/// a test hold or fail a batch.</summary>
public sealed class InMemoryActivationStore : IActivationStore
{
    private readonly Dictionary<ProductGroup, ProductGroupLedger> _ledgers =
        Enum.GetValues<ProductGroup>().ToDictionary(g => g, g => new ProductGroupLedger(g));
    private readonly List<ActivationRecord> _history = [];
    private readonly List<int> _batchSizes = [];
    private readonly Lock _identityLock = new();
    private FarmIdentity? _identity;
    private int _applyCalls;
    private int _appliedAttempts;

    /// <summary>Runs before each batch is applied (outside the group lock); throw to simulate a store failure, await to
    /// hold the batch.</summary>
    public Func<ProductGroup, IReadOnlyList<ActivationAttempt>, CancellationToken, ValueTask>? BeforeApply { get; set; }

    /// <summary>How many times <see cref="ApplyAsync"/> was called.</summary>
    public int ApplyCalls => Volatile.Read(ref _applyCalls);

    /// <summary>How many attempts were applied in total.</summary>
    public int AppliedAttempts => Volatile.Read(ref _appliedAttempts);

    /// <summary>The size of every batch, in order.</summary>
    public IReadOnlyList<int> BatchSizes
    {
        get
        {
            lock (_batchSizes)
            {
                return _batchSizes.ToArray();
            }
        }
    }

    public ValueTask InitializeAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask<FarmIdentity> GetOrCreateIdentityAsync(Func<FarmIdentity> create, CancellationToken cancellationToken)
    {
        lock (_identityLock)
        {
            return ValueTask.FromResult(_identity ??= create());
        }
    }

    public async ValueTask<IReadOnlyList<LedgerOutcome>> ApplyAsync(
        ProductGroup group, IReadOnlyList<ActivationAttempt> attempts, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _applyCalls);
        if (BeforeApply is { } hook)
        {
            await hook(group, attempts, cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var outcomes = new LedgerOutcome[attempts.Count];
        var ledger = _ledgers[group];
        lock (ledger)
        {
            for (int i = 0; i < attempts.Count; i++)
            {
                outcomes[i] = ledger.Apply(attempts[i].ClientMachineId, attempts[i].RequiredClientCount, now);
            }
        }

        lock (_history)
        {
            for (int i = 0; i < attempts.Count; i++)
            {
                _history.Add(attempts[i].Record with { CurrentCount = outcomes[i].CurrentCount });
            }
        }

        lock (_batchSizes)
        {
            _batchSizes.Add(attempts.Count);
        }

        Interlocked.Add(ref _appliedAttempts, attempts.Count);
        return outcomes;
    }

    public ValueTask AppendRefusalAsync(ActivationRecord record, CancellationToken cancellationToken)
    {
        lock (_history)
        {
            _history.Add(record);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<LedgerSnapshot> GetLedgerAsync(ProductGroup group, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ledger = _ledgers[group];
        lock (ledger)
        {
            var snapshot = ledger.ToSnapshot();
            var cutoff = now - ProductGroupLedger.ExpiryPeriod;
            return ValueTask.FromResult(snapshot with { Entries = snapshot.Entries.Where(e => e.LastSeen > cutoff).ToArray() });
        }
    }

    public ValueTask<IReadOnlyList<ActivationRecord>> GetHistoryAsync(int limit, CancellationToken cancellationToken)
    {
        lock (_history)
        {
            IReadOnlyList<ActivationRecord> newest = _history.AsEnumerable().Reverse().Take(limit).ToArray();
            return ValueTask.FromResult(newest);
        }
    }

    public ValueTask<bool> IsReadyAsync(CancellationToken cancellationToken) => ValueTask.FromResult(true);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
