using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.TestKit;

/// <summary>A real <see cref="IActivationStore"/> in memory, for tests and benchmarks: per group a stored cache (capacity,
/// entries with their seq) and a version that every commit must name (the same fence as the database stores), an
/// append-only history and the first identity created. Thread-safe, so several silos of one test cluster can share it.
/// <see cref="BeforeCommit"/> lets a test hold or fail a commit.</summary>
public sealed class InMemoryActivationStore : IActivationStore, IHistoryRetention
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ProductGroup, GroupRow> _groups = Enum.GetValues<ProductGroup>().ToDictionary(g => g, _ => new GroupRow());
    private readonly List<ActivationRecord> _history = [];
    private readonly List<int> _batchSizes = [];
    private FarmIdentity? _identity;
    private DateTimeOffset? _lastPurge;
    private int _commitCalls;
    private int _committedAttempts;
    private int _loads;
    private int _conflicts;

    /// <summary>Runs before each commit is checked and written; throw to simulate a store failure, await to hold it.</summary>
    public Func<LedgerCommit, CancellationToken, ValueTask>? BeforeCommit { get; set; }

    /// <summary>How many times <see cref="CommitLedgerAsync"/> was called (fenced ones included).</summary>
    public int CommitCalls => Volatile.Read(ref _commitCalls);

    /// <summary>How many attempts were committed in total.</summary>
    public int CommittedAttempts => Volatile.Read(ref _committedAttempts);

    /// <summary>How many times a group's cache was loaded.</summary>
    public int Loads => Volatile.Read(ref _loads);

    /// <summary>How many commits were refused because they named a version the group was no longer at.</summary>
    public int Conflicts => Volatile.Read(ref _conflicts);

    /// <summary>The size of every committed batch, in order.</summary>
    public IReadOnlyList<int> BatchSizes
    {
        get
        {
            lock (_lock)
            {
                return _batchSizes.ToArray();
            }
        }
    }

    /// <summary>Every history row, oldest first.</summary>
    public IReadOnlyList<ActivationRecord> History
    {
        get
        {
            lock (_lock)
            {
                return _history.ToArray();
            }
        }
    }

    /// <summary>The version <paramref name="group"/> is at.</summary>
    public long VersionOf(ProductGroup group)
    {
        lock (_lock)
        {
            return _groups[group].Version;
        }
    }

    public ValueTask InitializeAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask<FarmIdentity> GetOrCreateIdentityAsync(Func<FarmIdentity> create, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return ValueTask.FromResult(_identity ??= create());
        }
    }

    public ValueTask<StoredLedger> LoadLedgerAsync(ProductGroup group, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _loads);
        lock (_lock)
        {
            var row = _groups[group];
            var entries = row.Entries.Values.OrderBy(e => e.Seq).Select(e => new LedgerEntry(e.ClientMachineId, e.LastSeen)).ToArray();
            long nextSeq = row.Entries.Count == 0 ? 1 : row.Entries.Values.Max(e => e.Seq) + 1;
            return ValueTask.FromResult(new StoredLedger(group, row.Capacity, entries, row.Version, nextSeq));
        }
    }

    public async ValueTask CommitLedgerAsync(LedgerCommit commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commit);
        Interlocked.Increment(ref _commitCalls);
        if (BeforeCommit is { } hook)
        {
            await hook(commit, cancellationToken).ConfigureAwait(false);
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            var row = _groups[commit.Group];
            if (row.Version != commit.ExpectedVersion)
            {
                Interlocked.Increment(ref _conflicts);
                throw new LedgerVersionConflictException(commit.Group, commit.ExpectedVersion);
            }

            row.Version = commit.NewVersion;
            row.Capacity = commit.Capacity;
            foreach (var id in commit.RemovedIds)
            {
                row.Entries.Remove(id);
            }

            foreach (var entry in commit.Upserted)
            {
                row.Entries[entry.ClientMachineId] = entry;
            }

            foreach (var record in commit.Records)
            {
                row.Clients[record.ClientMachineId] = commit.Time;
            }

            _history.AddRange(commit.Records);
            _batchSizes.Add(commit.Records.Count);
        }

        Interlocked.Add(ref _committedAttempts, commit.Records.Count);
    }

    public ValueTask AppendRefusalAsync(ActivationRecord record, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _history.Add(record);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<LedgerSnapshot> GetLedgerAsync(ProductGroup group, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var cutoff = now - ProductGroupLedger.ExpiryPeriod;
        lock (_lock)
        {
            var row = _groups[group];
            var entries = row.Entries.Values.OrderBy(e => e.Seq).Where(e => e.LastSeen > cutoff)
                .Select(e => new LedgerEntry(e.ClientMachineId, e.LastSeen)).ToArray();
            return ValueTask.FromResult(new LedgerSnapshot(group, row.Capacity, entries));
        }
    }

    public ValueTask<int?> CountClientsSeenSinceAsync(ProductGroup group, DateTimeOffset since, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return ValueTask.FromResult<int?>(_groups[group].Clients.Values.Count(seen => seen > since));
        }
    }

    public ValueTask<IReadOnlyList<ActivationRecord>> GetHistoryAsync(int limit, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<ActivationRecord> newest = _history.AsEnumerable().Reverse().Take(limit).ToArray();
            return ValueTask.FromResult(newest);
        }
    }

    public ValueTask<bool> TryClaimHistoryPurgeAsync(DateTimeOffset now, TimeSpan interval, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (_lastPurge is { } last && last > now - interval)
            {
                return ValueTask.FromResult(false);
            }

            _lastPurge = now;
            return ValueTask.FromResult(true);
        }
    }

    public ValueTask<int> DeleteHistoryBeforeAsync(DateTimeOffset cutoff, int batchSize, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            int[] doomed = _history.Select((r, i) => (r.Time, i)).Where(x => x.Time < cutoff).OrderBy(x => x.Time).Take(batchSize)
                .Select(x => x.i).OrderDescending().ToArray();
            foreach (int i in doomed)
            {
                _history.RemoveAt(i);
            }

            return ValueTask.FromResult(doomed.Length);
        }
    }

    public ValueTask<bool> IsReadyAsync(CancellationToken cancellationToken) => ValueTask.FromResult(true);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private sealed class GroupRow
    {
        public int Capacity { get; set; }

        public long Version { get; set; }

        public Dictionary<Guid, SequencedLedgerEntry> Entries { get; } = [];

        /// <summary>The client inventory: each counted CMID and when its last commit was.</summary>
        public Dictionary<Guid, DateTimeOffset> Clients { get; } = [];
    }
}
