using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using Microsoft.Data.Sqlite;

namespace KmsFarm.Storage.Sqlite;

public sealed partial class SqliteActivationStore
{
    public async ValueTask<StoredLedger> LoadLedgerAsync(ProductGroup group, CancellationToken cancellationToken)
    {
        CheckGroup(group);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var writer = _writer!;
            using var transaction = writer.BeginTransaction(deferred: false);
            using (var ensure = writer.CreateCommand())
            {
                ensure.Transaction = transaction;
                ensure.CommandText = "INSERT OR IGNORE INTO ledger (group_id, capacity) VALUES ($group, 0)";
                ensure.Parameters.AddWithValue("$group", (int)group);
                await ensure.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var (capacity, version) = await ReadGroupRowAsync(writer, transaction, group, cancellationToken).ConfigureAwait(false);
            var (entries, maxSeq) = await ReadEntriesAsync(writer, transaction, group, long.MinValue, cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return new StoredLedger(group, capacity, entries, version, maxSeq + 1);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async ValueTask CommitLedgerAsync(LedgerCommit commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commit);
        CheckGroup(commit.Group);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var statements = _statements!;
            var group = commit.Group;
            using var transaction = _writer!.BeginTransaction(deferred: false);
            statements.Enlist(transaction);
            try
            {
                // The fence: nothing else is written unless the group is still at the version the writer loaded.
                if (await statements.AdvanceVersionAsync(group, commit.ExpectedVersion, commit.Capacity, cancellationToken).ConfigureAwait(false) != 1)
                {
                    throw new LedgerVersionConflictException(group, commit.ExpectedVersion);
                }

                foreach (var removed in commit.RemovedIds)
                {
                    await statements.DeleteEntryAsync(group, removed, cancellationToken).ConfigureAwait(false);
                }

                foreach (var entry in commit.Upserted)
                {
                    await statements.UpsertEntryAsync(group, entry, cancellationToken).ConfigureAwait(false);
                }

                foreach (var record in commit.Records)
                {
                    await statements.UpsertClientAsync(group, record, commit.Time, cancellationToken).ConfigureAwait(false);
                    await statements.InsertHistoryAsync(record, cancellationToken).ConfigureAwait(false);
                }

                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not LedgerVersionConflictException)
            {
                if (_failureLog.TryAcquire(out long suppressed))
                {
                    SqliteStoreLog.ApplyFailed(_logger, ex, group.ToString(), commit.Records.Count, suppressed);
                }
                throw;
            }
            finally
            {
                statements.Enlist(null);
            }
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async ValueTask<LedgerSnapshot> GetLedgerAsync(ProductGroup group, DateTimeOffset now, CancellationToken cancellationToken)
    {
        CheckGroup(group);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        // Deferred: a read transaction (one consistent snapshot of capacity and entries) on a read-only connection.
        using var transaction = connection.BeginTransaction(deferred: true);
        var (capacity, _) = await ReadGroupRowAsync(connection, transaction, group, cancellationToken).ConfigureAwait(false);
        var (entries, _) = await ReadEntriesAsync(
            connection, transaction, group, SqliteValues.ToTicks(now - ProductGroupLedger.ExpiryPeriod), cancellationToken).ConfigureAwait(false);
        return new LedgerSnapshot(group, capacity, entries);
    }

    /// <summary>An index range scan of <c>client_last_seen (group_id, last_seen_utc_ticks)</c> on a read-only connection.</summary>
    public async ValueTask<int?> CountClientsSeenSinceAsync(ProductGroup group, DateTimeOffset since, CancellationToken cancellationToken)
    {
        CheckGroup(group);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM client WHERE group_id = $group AND last_seen_utc_ticks > $since";
        command.Parameters.AddWithValue("$group", (int)group);
        command.Parameters.AddWithValue("$since", SqliteValues.ToTicks(since));
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private static async Task<(int Capacity, long Version)> ReadGroupRowAsync(
        SqliteConnection connection, SqliteTransaction transaction, ProductGroup group, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT capacity, version FROM ledger WHERE group_id = $group";
        command.Parameters.AddWithValue("$group", (int)group);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? (reader.GetInt32(0), reader.GetInt64(1)) : (0, 0);
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

    private static void CheckGroup(ProductGroup group)
    {
        if (!Enum.IsDefined(group))
        {
            throw new ArgumentOutOfRangeException(nameof(group), group, "Not a product group.");
        }
    }
}
