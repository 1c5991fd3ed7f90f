using System.Buffers.Binary;
using System.Security.Cryptography;
using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using Npgsql;

namespace KmsFarm.Storage.Postgres;

public sealed partial class PostgresActivationStore
{
    private const string TransactionTimeoutsSql = """
        SELECT set_config('lock_timeout', $1, true), set_config('idle_in_transaction_session_timeout', $1, true)
        """;

    // Round trip 1: open the transaction, bound its waits, take the group's row lock (this is where nodes queue behind each other), and in
    // the same trip, unless the version under the lock equals the one this node last wrote, read the cache entries written after this
    // node's copy (seq > its last_seq; with no copy, $3 = -1 reads them all).
    private const string LockGroupSql = """
        SELECT capacity, version, last_seq, entry_count, fingerprint FROM ledger_group WHERE group_id = $1 FOR UPDATE
        """;

    private const string LoadEntriesSql = """
        SELECT cmid, last_seen FROM ledger_entry
        WHERE group_id = $1 AND seq > $3 AND (SELECT version FROM ledger_group WHERE group_id = $1) <> $2
        ORDER BY seq
        """;

    // Only when the copy brought up to date does not match the row's count and fingerprint: a third round trip, still under the lock.
    private const string LoadAllEntriesSql = "SELECT cmid, last_seen FROM ledger_entry WHERE group_id = $1 ORDER BY seq";

    // Round trip 2: write what changed, append history, COMMIT.
    private const string DeleteEntriesSql = "DELETE FROM ledger_entry WHERE group_id = $1 AND cmid = ANY($2::uuid[])";

    private const string UpsertEntriesSql = """
        INSERT INTO ledger_entry (group_id, cmid, last_seen, seq)
        SELECT $1, e.cmid, e.last_seen, e.seq FROM unnest($2::uuid[], $3::timestamptz[], $4::bigint[]) AS e (cmid, last_seen, seq)
        ON CONFLICT (group_id, cmid) DO UPDATE SET last_seen = excluded.last_seen, seq = excluded.seq
        """;

    private const string UpdateGroupSql = """
        UPDATE ledger_group SET capacity = $2, version = $3, last_seq = $4, entry_count = $5, fingerprint = $6 WHERE group_id = $1
        """;

    private const string UpsertClientsSql = """
        INSERT INTO client (group_id, cmid, machine_name, application_id, sku_id, kms_counted_id, license_status, is_client_vm,
                            protocol_version, first_seen, last_seen, last_address, last_node, activation_count)
        SELECT $1, c.cmid, c.machine_name, c.application_id, c.sku_id, c.kms_counted_id, c.license_status, c.is_client_vm,
               c.protocol_version, $2, $2, c.last_address, c.last_node, c.activation_count
        FROM unnest($3::uuid[], $4::text[], $5::uuid[], $6::uuid[], $7::uuid[], $8::bigint[], $9::boolean[], $10::integer[],
                    $11::text[], $12::text[], $13::bigint[])
             AS c (cmid, machine_name, application_id, sku_id, kms_counted_id, license_status, is_client_vm, protocol_version,
                   last_address, last_node, activation_count)
        ON CONFLICT (group_id, cmid) DO UPDATE SET
            machine_name = excluded.machine_name, application_id = excluded.application_id, sku_id = excluded.sku_id,
            kms_counted_id = excluded.kms_counted_id, license_status = excluded.license_status,
            is_client_vm = excluded.is_client_vm, protocol_version = excluded.protocol_version,
            last_seen = excluded.last_seen, last_address = excluded.last_address, last_node = excluded.last_node,
            activation_count = client.activation_count + excluded.activation_count
        """;

    private const string SelectLedgerSql = """
        SELECT g.capacity, e.cmid, e.last_seen
        FROM ledger_group g LEFT JOIN ledger_entry e ON e.group_id = g.group_id AND e.last_seen > $2
        WHERE g.group_id = $1
        ORDER BY e.seq
        """;

    /// <summary>One transaction, two round trips: (1) BEGIN, lock the group row FOR UPDATE and read the cache if this node's
    /// copy is stale; (2) persist the ledger changes, bump the version, upsert the inventory, append the history and COMMIT.
    /// The row lock serializes every change to a group's cache across the farm, so each client is told the count one
    /// genuine host would report for that order. Outcomes are returned only after COMMIT; on any failure nothing is counted,
    /// this node's copy of the cache is dropped and the exception propagates.</summary>
    public async ValueTask<IReadOnlyList<LedgerOutcome>> ApplyAsync(
        ProductGroup group, IReadOnlyList<ActivationAttempt> attempts, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        var slot = Slot(group);
        if (attempts.Count == 0)
        {
            return [];
        }

        now = TruncateToMicroseconds(now);
        await slot.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        NpgsqlConnection? connection = null;
        try
        {
            connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            var (ledger, version, lastSeq, fingerprint) = await LockAndLoadAsync(connection, slot, group, cancellationToken).ConfigureAwait(false);
            slot.Ledger = null; // Until COMMIT succeeds the copy may hold uncommitted changes.

            var attemptIds = new HashSet<Guid>(attempts.Count);
            var presentBefore = new HashSet<Guid>();
            foreach (var attempt in attempts)
            {
                if (attemptIds.Add(attempt.ClientMachineId) && ledger.Contains(attempt.ClientMachineId))
                {
                    presentBefore.Add(attempt.ClientMachineId);
                }
            }

            var changes = new LedgerChanges();
            var outcomes = new LedgerOutcome[attempts.Count];
            for (int i = 0; i < attempts.Count; i++)
            {
                outcomes[i] = ledger.Apply(attempts[i].ClientMachineId, attempts[i].RequiredClientCount, now, changes);
            }

            // The fingerprint follows the set of CMIDs: flip in every CMID that joined and every one that left. Only attempts add
            // entries, so a removed CMID that no attempt named was in the cache before.
            foreach (var entry in changes.Upserted)
            {
                if (!presentBefore.Contains(entry.ClientMachineId))
                {
                    fingerprint ^= CmidHash(entry.ClientMachineId);
                }
            }

            foreach (var id in changes.RemovedIds)
            {
                if (!attemptIds.Contains(id) || presentBefore.Contains(id))
                {
                    fingerprint ^= CmidHash(id);
                }
            }

            long newLastSeq = lastSeq + attempts.Count;
            await using (var batch = BuildWriteBatch(connection, group, attempts, outcomes, changes, ledger, version + 1, lastSeq, fingerprint, now))
            {
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            slot.Ledger = ledger;
            slot.Version = version + 1;
            slot.LastSeq = newLastSeq;
            slot.Fingerprint = fingerprint;
            return outcomes;
        }
        catch (Exception ex)
        {
            slot.Ledger = null;
            slot.Version = -1;
            PostgresStoreLog.ApplyFailed(_logger, ex, group.ToString(), attempts.Count);
            await AbandonAsync(connection).ConfigureAwait(false);
            connection = null;
            throw;
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }

            slot.Gate.Release();
        }
    }

    public async ValueTask<LedgerSnapshot> GetLedgerAsync(ProductGroup group, DateTimeOffset now, CancellationToken cancellationToken)
    {
        _ = Slot(group);
        var cutoff = TruncateToMicroseconds(now) - ProductGroupLedger.ExpiryPeriod;
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(SelectLedgerSql, connection);
        command.Parameters.Add(new() { Value = (short)group });
        command.Parameters.Add(new() { Value = cutoff });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        int capacity = 0;
        var entries = new List<LedgerEntry>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            capacity = reader.GetInt32(0);
            if (!reader.IsDBNull(1))
            {
                entries.Add(new LedgerEntry(reader.GetGuid(1), reader.GetFieldValue<DateTimeOffset>(2)));
            }
        }

        return new LedgerSnapshot(group, capacity, entries);
    }

    /// <summary>Locks the group row and returns this node's copy of the cache brought up to the row's version, with the row's
    /// version, last_seq and the copy's fingerprint. A stale copy is brought up to date from the entries written since it (seq
    /// greater than its last_seq): each moves to the back, in seq order; then entries removed by other nodes (evictions and
    /// expiries, which leave no seq) are dropped from the front until the count matches the row's. The copy is used only if
    /// its count and fingerprint then equal the row's; otherwise the whole cache is read again.</summary>
    private async Task<(ProductGroupLedger Ledger, long Version, long LastSeq, long Fingerprint)> LockAndLoadAsync(
        NpgsqlConnection connection, GroupSlot slot, ProductGroup group, CancellationToken cancellationToken)
    {
        var cached = slot.Ledger;
        long cachedVersion = cached is null ? -1 : slot.Version;
        long cachedLastSeq = cached is null ? -1 : slot.LastSeq;
        int capacity, rowCount;
        long version, lastSeq, rowFingerprint;
        var entries = new List<LedgerEntry>();
        await using (var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new("BEGIN"),
                Command(TransactionTimeoutsSql, _lockTimeoutSetting),
                Command(LockGroupSql, (short)group),
                Command(LoadEntriesSql, (short)group, cachedVersion, cachedLastSeq),
            },
        })
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new InvalidOperationException($"The ledger row of {group} is missing; was the schema initialized?");
            }

            capacity = reader.GetInt32(0);
            version = reader.GetInt64(1);
            lastSeq = reader.GetInt64(2);
            rowCount = reader.GetInt32(3);
            rowFingerprint = reader.GetInt64(4);
            await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                entries.Add(new LedgerEntry(reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1)));
            }
        }

        if (cached is not null && version == cachedVersion)
        {
            if (cached.Count == rowCount && slot.Fingerprint == rowFingerprint)
            {
                return (cached, version, lastSeq, slot.Fingerprint);
            }
        }
        else if (cached is null)
        {
            Interlocked.Increment(ref _fullReloads);
            PostgresStoreLog.LedgerLoaded(_logger, group.ToString(), version, entries.Count, capacity);
            return (new ProductGroupLedger(group, capacity, entries), version, lastSeq, Fingerprint(entries));
        }
        else if (TryCatchUp(cached, slot.Fingerprint, entries, rowCount, rowFingerprint) is { } caughtUp)
        {
            Interlocked.Increment(ref _incrementalRefreshes);
            PostgresStoreLog.LedgerLoaded(_logger, group.ToString(), version, caughtUp.Count, capacity);
            return (new ProductGroupLedger(group, capacity, caughtUp), version, lastSeq, rowFingerprint);
        }

        // The copy does not match the row: read the whole cache, still under the lock. The row's fingerprint is not trusted
        // either; the one written next is computed from the entries read here.
        Interlocked.Increment(ref _refreshFallbacks);
        PostgresStoreLog.LedgerRefreshMismatch(_logger, group.ToString(), version);
        entries.Clear();
        await using (var command = new NpgsqlCommand(LoadAllEntriesSql, connection) { Parameters = { new() { Value = (short)group } } })
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                entries.Add(new LedgerEntry(reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1)));
            }
        }

        Interlocked.Increment(ref _fullReloads);
        PostgresStoreLog.LedgerLoaded(_logger, group.ToString(), version, entries.Count, capacity);
        return (new ProductGroupLedger(group, capacity, entries), version, lastSeq, Fingerprint(entries));
    }

    /// <summary>The copy's entries after the entries written since it (<paramref name="written"/>, in seq order) and the removals
    /// others made, oldest first; or null when the result's count or fingerprint differs from the row's.</summary>
    private static List<LedgerEntry>? TryCatchUp(
        ProductGroupLedger cached, long cachedFingerprint, List<LedgerEntry> written, int rowCount, long rowFingerprint)
    {
        long fingerprint = cachedFingerprint;
        var writtenIds = new HashSet<Guid>(written.Count);
        foreach (var entry in written)
        {
            writtenIds.Add(entry.ClientMachineId);
            if (!cached.Contains(entry.ClientMachineId))
            {
                fingerprint ^= CmidHash(entry.ClientMachineId);
            }
        }

        var merged = new List<LedgerEntry>(cached.Count + written.Count);
        foreach (var entry in cached.ToSnapshot().Entries)
        {
            if (!writtenIds.Contains(entry.ClientMachineId))
            {
                merged.Add(entry);
            }
        }

        merged.AddRange(written);
        int trim = merged.Count - rowCount;
        if (trim < 0)
        {
            return null;
        }

        for (int i = 0; i < trim; i++)
        {
            fingerprint ^= CmidHash(merged[i].ClientMachineId);
        }

        if (fingerprint != rowFingerprint)
        {
            return null;
        }

        merged.RemoveRange(0, trim);
        return merged;
    }

    private static long Fingerprint(IEnumerable<LedgerEntry> entries)
    {
        long fingerprint = 0;
        foreach (var entry in entries)
        {
            fingerprint ^= CmidHash(entry.ClientMachineId);
        }

        return fingerprint;
    }

    /// <summary>The 64-bit hash of a CMID in the fingerprint: the first 8 bytes of SHA-256 over its 16 RFC 4122 (big-endian)
    /// bytes, read big-endian; migration 0002 computes the same in SQL.</summary>
    internal static long CmidHash(Guid clientMachineId)
    {
        Span<byte> bytes = stackalloc byte[16];
        clientMachineId.TryWriteBytes(bytes, bigEndian: true, out _);
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(bytes, hash);
        return BinaryPrimitives.ReadInt64BigEndian(hash);
    }

    private static NpgsqlBatch BuildWriteBatch(
        NpgsqlConnection connection, ProductGroup group, IReadOnlyList<ActivationAttempt> attempts, LedgerOutcome[] outcomes,
        LedgerChanges changes, ProductGroupLedger ledger, long newVersion, long lastSeq, long fingerprint,
        DateTimeOffset now)
    {
        short groupId = (short)group;
        var batch = new NpgsqlBatch(connection);
        if (changes.RemovedIds.Count > 0)
        {
            batch.BatchCommands.Add(Command(DeleteEntriesSql, groupId, changes.RemovedIds.ToArray()));
        }

        // A CMID's place in the cache follows its last touch in this batch, after every entry from earlier batches.
        var lastTouch = new Dictionary<Guid, int>(attempts.Count);
        for (int i = 0; i < attempts.Count; i++)
        {
            lastTouch[attempts[i].ClientMachineId] = i;
        }

        if (changes.Upserted.Count > 0)
        {
            var upserted = changes.Upserted.ToArray();
            batch.BatchCommands.Add(Command(UpsertEntriesSql, groupId,
                upserted.Select(e => e.ClientMachineId).ToArray(),
                upserted.Select(e => e.LastSeen).ToArray(),
                upserted.Select(e => lastSeq + 1 + lastTouch[e.ClientMachineId]).ToArray()));
        }

        batch.BatchCommands.Add(Command(UpdateGroupSql, groupId, ledger.Capacity, newVersion, lastSeq + attempts.Count, ledger.Count, fingerprint));
        batch.BatchCommands.Add(BuildClientUpsert(groupId, attempts, now));
        batch.BatchCommands.Add(BuildHistoryInsert(attempts.Select((a, i) => a.Record with { Group = group, CurrentCount = outcomes[i].CurrentCount, Result = 0 })));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        return batch;
    }

    private static NpgsqlBatchCommand BuildClientUpsert(short groupId, IReadOnlyList<ActivationAttempt> attempts, DateTimeOffset now)
    {
        // ON CONFLICT cannot touch one row twice in a statement: one row per CMID, the latest request's details.
        var latest = new Dictionary<Guid, (ActivationRecord Record, long Count)>();
        foreach (var attempt in attempts)
        {
            latest[attempt.ClientMachineId] = (attempt.Record, (latest.TryGetValue(attempt.ClientMachineId, out var seen) ? seen.Count : 0) + 1);
        }

        var rows = latest.ToArray();
        return Command(UpsertClientsSql, groupId, now,
            rows.Select(r => r.Key).ToArray(),
            rows.Select(r => r.Value.Record.MachineName).ToArray(),
            rows.Select(r => r.Value.Record.ApplicationId).ToArray(),
            rows.Select(r => r.Value.Record.SkuId).ToArray(),
            rows.Select(r => r.Value.Record.KmsCountedId).ToArray(),
            rows.Select(r => (long)r.Value.Record.LicenseStatus).ToArray(),
            rows.Select(r => r.Value.Record.IsClientVm).ToArray(),
            rows.Select(r => r.Value.Record.ProtocolVersion).ToArray(),
            rows.Select(r => r.Value.Record.ClientAddress).ToArray(),
            rows.Select(r => r.Value.Record.Node).ToArray(),
            rows.Select(r => r.Value.Count).ToArray());
    }

    private GroupSlot Slot(ProductGroup group) =>
        (uint)group < (uint)_groups.Length ? _groups[(int)group] : throw new ArgumentOutOfRangeException(nameof(group), group, null);

    /// <summary>After a failure the connection may sit in an open or aborted transaction, or be broken. Roll back if it
    /// can; either way close it, and clear the pool, since a failure is most often the database going away and the other
    /// idle connections are then dead too.</summary>
    private async Task AbandonAsync(NpgsqlConnection? connection)
    {
        if (connection is not null)
        {
            try
            {
                if (connection.State == System.Data.ConnectionState.Open)
                {
                    await using var rollback = new NpgsqlCommand("ROLLBACK", connection);
                    await rollback.ExecuteNonQueryAsync(CancellationToken.None).ConfigureAwait(false);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or IOException)
            {
                // The connection is broken; disposing it below discards it.
            }

            await connection.DisposeAsync().ConfigureAwait(false);
        }

        _dataSource.Clear();
    }
}
