using KmsFarm.Protocol.Catalog;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Activation;

/// <summary>The single writer of one product group's CMID cache: it loads the cache from the store, applies batches of
/// attempts to it in order and commits each batch (ledger changes, inventory, history) with the version it loaded, so a
/// second writer of the same group is fenced off by the store (<see cref="LedgerVersionConflictException"/>).</summary>
/// <remarks>Not thread-safe: one caller at a time (the product-group grain's commit loop, or
/// <see cref="LocalProductGroupLedgers"/>). Memory never runs ahead of the store: while a commit is in flight, and after
/// any failed commit, the writer holds no cache and loads it again before the next batch.</remarks>
public sealed class ProductGroupWriter
{
    private readonly IActivationStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private ProductGroupLedger? _ledger;
    private long _version;
    private long _nextSeq;
    private WriterStatus _status = new(0, 0, 0);

    public ProductGroupWriter(ProductGroup group, IActivationStore store, TimeProvider timeProvider, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentNullException.ThrowIfNull(logger);
        Group = group;
        _store = store;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public ProductGroup Group { get; }

    /// <summary>True while the writer holds a cache that equals the store's at <see cref="Version"/>.</summary>
    public bool IsLoaded => _ledger is not null;

    /// <summary>The store version the cache was loaded at or last committed as.</summary>
    public long Version => _version;

    /// <summary>Live and expired entries currently held (0 when not loaded).</summary>
    public int Count => _ledger?.Count ?? 0;

    /// <summary>The cache's capacity (0 when not loaded).</summary>
    public int Capacity => _ledger?.Capacity ?? 0;

    /// <summary>Count, capacity and version as last loaded or committed, published as one object: unlike
    /// <see cref="Count"/> and <see cref="Capacity"/> (0 while a batch is applied or committed, since the writer then
    /// holds no cache), any thread may read it at any time, e.g. to report the group's status while a commit is in
    /// flight. After a failed commit it still describes the last committed state.</summary>
    public WriterStatus Status => Volatile.Read(ref _status);

    /// <summary>Reads the group's cache and version from the store, replacing whatever the writer held.</summary>
    public async ValueTask LoadAsync(CancellationToken cancellationToken)
    {
        _ledger = null;
        var stored = await _store.LoadLedgerAsync(Group, cancellationToken).ConfigureAwait(false);
        if (stored.Group != Group)
        {
            throw new InvalidOperationException($"The store returned the ledger of {stored.Group} when {Group} was asked for.");
        }

        _ledger = new ProductGroupLedger(Group, stored.Capacity, stored.EntriesOldestFirst);
        _version = stored.Version;
        _nextSeq = stored.NextSeq;
        Volatile.Write(ref _status, new WriterStatus(_ledger.Count, _ledger.Capacity, _version));
        ActivationLog.LedgerLoaded(_logger, Group.ToString(), _version, _ledger.Count, _ledger.Capacity);
    }

    /// <summary>Applies <paramref name="attempts"/> in order at the current time, commits them and returns one outcome per
    /// attempt. Throws <see cref="LedgerVersionConflictException"/> when another writer committed since the load, or the
    /// store's exception; in both cases nothing was counted and the next call reloads.</summary>
    public async ValueTask<IReadOnlyList<LedgerOutcome>> ApplyAsync(IReadOnlyList<ActivationAttempt> attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        if (attempts.Count == 0)
        {
            return [];
        }

        if (_ledger is null)
        {
            await LoadAsync(cancellationToken).ConfigureAwait(false);
        }

        var ledger = _ledger!;
        _ledger = null; // Until the commit succeeds the cache holds changes the store may never see.
        var now = TruncateToMicroseconds(_timeProvider.GetUtcNow());
        var changes = new LedgerChanges();
        var outcomes = new LedgerOutcome[attempts.Count];
        var lastTouch = new Dictionary<Guid, int>(attempts.Count);
        var records = new ActivationRecord[attempts.Count];
        for (int i = 0; i < attempts.Count; i++)
        {
            var attempt = attempts[i];
            outcomes[i] = ledger.Apply(attempt.ClientMachineId, attempt.RequiredClientCount, now, changes);
            lastTouch[attempt.ClientMachineId] = i;
            records[i] = attempt.Record with { Group = Group, CurrentCount = outcomes[i].CurrentCount, Result = 0 };
        }

        // A CMID's place in the cache follows its last touch in this batch, after every entry of earlier batches.
        var upserted = new SequencedLedgerEntry[changes.Upserted.Count];
        int u = 0;
        foreach (var entry in changes.Upserted)
        {
            upserted[u++] = new SequencedLedgerEntry(entry.ClientMachineId, entry.LastSeen, _nextSeq + lastTouch[entry.ClientMachineId]);
        }

        var commit = new LedgerCommit(Group, _version, now, ledger.Capacity, upserted, [.. changes.RemovedIds], records);
        await _store.CommitLedgerAsync(commit, cancellationToken).ConfigureAwait(false);
        _ledger = ledger;
        _version = commit.NewVersion;
        _nextSeq += attempts.Count;
        Volatile.Write(ref _status, new WriterStatus(ledger.Count, ledger.Capacity, commit.NewVersion));
        return outcomes;
    }

    /// <summary>Stores keep microseconds (PostgreSQL timestamptz); applying whole microseconds makes the cache in memory equal
    /// what any later load reads back, so expiry decides the same either way.</summary>
    public static DateTimeOffset TruncateToMicroseconds(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % 10), TimeSpan.Zero);
    }
}
