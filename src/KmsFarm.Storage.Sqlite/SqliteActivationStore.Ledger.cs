using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using Microsoft.Data.Sqlite;

namespace KmsFarm.Storage.Sqlite;

public sealed partial class SqliteActivationStore
{
    public async ValueTask<IReadOnlyList<LedgerOutcome>> ApplyAsync(
        ProductGroup group, IReadOnlyList<ActivationAttempt> attempts, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        var state = GetGroup(group);
        foreach (var attempt in attempts)
        {
            ArgumentNullException.ThrowIfNull(attempt, nameof(attempts));
            ArgumentNullException.ThrowIfNull(attempt.Record, nameof(attempts));
            ArgumentOutOfRangeException.ThrowIfNegative(attempt.RequiredClientCount, nameof(attempts));
        }

        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        if (attempts.Count == 0)
        {
            return [];
        }

        await state.Lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                return await ApplyLockedAsync(state, attempts, now, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _writeLock.Release();
            }
        }
        finally
        {
            state.Lock.Release();
        }
    }

    public async ValueTask<LedgerSnapshot> GetLedgerAsync(ProductGroup group, DateTimeOffset now, CancellationToken cancellationToken)
    {
        GetGroup(group);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        // Deferred: a read transaction (one consistent snapshot of capacity and entries) on a read-only connection.
        using var transaction = connection.BeginTransaction(deferred: true);
        int capacity = await ReadCapacityAsync(connection, transaction, group, cancellationToken).ConfigureAwait(false);
        var (entries, _) = await ReadEntriesAsync(
            connection, transaction, group, SqliteValues.ToTicks(now - ProductGroupLedger.ExpiryPeriod), cancellationToken).ConfigureAwait(false);
        return new LedgerSnapshot(group, capacity, entries);
    }

    private async Task<LedgerOutcome[]> ApplyLockedAsync(
        GroupState state, IReadOnlyList<ActivationAttempt> attempts, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var ledger = state.Ledger ?? await LoadLedgerAsync(state, cancellationToken).ConfigureAwait(false);
        var outcomes = new LedgerOutcome[attempts.Count];
        try
        {
            var changes = new LedgerChanges();

            // A CMID touched more than once in the batch ends up where its last touch put it.
            var lastTouch = new Dictionary<Guid, int>(attempts.Count);
            for (int i = 0; i < attempts.Count; i++)
            {
                var attempt = attempts[i];
                outcomes[i] = ledger.Apply(attempt.ClientMachineId, attempt.RequiredClientCount, now, changes);
                lastTouch[attempt.ClientMachineId] = i;
            }

            await PersistAsync(state, attempts, outcomes, changes, lastTouch, now, cancellationToken).ConfigureAwait(false);
            state.NextSeq += attempts.Count;
            return outcomes;
        }
        catch (Exception ex)
        {
            SqliteStoreLog.ApplyFailed(_logger, ex, state.Group.ToString(), attempts.Count);
            state.Ledger = null;
            try
            {
                await LoadLedgerAsync(state, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception reloadEx) when (reloadEx is SqliteException or IOException or InvalidOperationException)
            {
                SqliteStoreLog.ReloadFailed(_logger, reloadEx, state.Group.ToString());
            }

            throw;
        }
    }

    private async Task PersistAsync(
        GroupState state, IReadOnlyList<ActivationAttempt> attempts, LedgerOutcome[] outcomes, LedgerChanges changes,
        Dictionary<Guid, int> lastTouch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var statements = _statements!;
        var group = state.Group;
        using var transaction = _writer!.BeginTransaction(deferred: false);
        statements.Enlist(transaction);
        try
        {
            if (changes.Capacity is { } capacity)
            {
                await statements.SetCapacityAsync(group, capacity, cancellationToken).ConfigureAwait(false);
            }

            foreach (var removed in changes.RemovedIds)
            {
                await statements.DeleteEntryAsync(group, removed, cancellationToken).ConfigureAwait(false);
            }

            foreach (var entry in changes.Upserted)
            {
                long seq = state.NextSeq + lastTouch[entry.ClientMachineId];
                await statements.UpsertEntryAsync(group, entry, seq, cancellationToken).ConfigureAwait(false);
            }

            for (int i = 0; i < attempts.Count; i++)
            {
                var record = attempts[i].Record with { Group = group, CurrentCount = outcomes[i].CurrentCount, Result = 0 };
                await statements.UpsertClientAsync(group, record, now, cancellationToken).ConfigureAwait(false);
                await statements.InsertHistoryAsync(record, cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            statements.Enlist(null);
        }
    }

    /// <summary>Rebuilds a group's in-memory ledger from the file (writer connection, under the group's lock or during
    /// open). Creates the group's ledger row on first use.</summary>
    private async Task<ProductGroupLedger> LoadLedgerAsync(GroupState state, CancellationToken cancellationToken)
    {
        var writer = _writer!;
        using (var ensure = writer.CreateCommand())
        {
            ensure.CommandText = "INSERT OR IGNORE INTO ledger (group_id, capacity) VALUES ($group, 0)";
            ensure.Parameters.AddWithValue("$group", (int)state.Group);
            await ensure.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        using var transaction = writer.BeginTransaction(deferred: true);
        int capacity = await ReadCapacityAsync(writer, transaction, state.Group, cancellationToken).ConfigureAwait(false);
        var (entries, maxSeq) = await ReadEntriesAsync(writer, transaction, state.Group, long.MinValue, cancellationToken)
            .ConfigureAwait(false);
        transaction.Commit();

        var ledger = new ProductGroupLedger(state.Group, capacity, entries);
        state.Ledger = ledger;
        state.NextSeq = maxSeq + 1;
        SqliteStoreLog.LedgerLoaded(_logger, state.Group.ToString(), ledger.Count, ledger.Capacity);
        return ledger;
    }

    private static async Task<int> ReadCapacityAsync(
        SqliteConnection connection, SqliteTransaction transaction, ProductGroup group, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT capacity FROM ledger WHERE group_id = $group";
        command.Parameters.AddWithValue("$group", (int)group);
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long capacity ? (int)capacity : 0;
    }

    /// <summary>The entries last seen after <paramref name="afterTicks"/>, oldest first, and the largest seq stored.</summary>
    private static async Task<(LedgerEntry[] Entries, long MaxSeq)> ReadEntriesAsync(
        SqliteConnection connection, SqliteTransaction transaction, ProductGroup group, long afterTicks,
        CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText =
            """
            SELECT cmid, last_seen_utc_ticks, seq FROM ledger_entry
            WHERE group_id = $group AND last_seen_utc_ticks > $after
            ORDER BY seq
            """;
        command.Parameters.AddWithValue("$group", (int)group);
        command.Parameters.AddWithValue("$after", afterTicks);
        var entries = new List<LedgerEntry>();
        long maxSeq = 0;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(new LedgerEntry(reader.GetGuidText(0), reader.GetTicks(1)));
            maxSeq = reader.GetInt64(2);
        }

        return ([.. entries], maxSeq);
    }
}
