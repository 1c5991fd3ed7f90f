using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using Npgsql;

namespace KmsFarm.Storage.Postgres;

public sealed partial class PostgresActivationStore
{
    /// <summary>The SQLSTATE ledger_advance() raises when the group is not at the expected version (migration 0003).</summary>
    internal const string VersionConflictSqlState = "KF001";

    private const string LoadGroupSql = "SELECT capacity, version FROM ledger_group WHERE group_id = $1";

    private const string LoadEntriesSql = "SELECT cmid, last_seen, seq FROM ledger_entry WHERE group_id = $1 ORDER BY seq";

    private const string AdvanceSql = "SELECT ledger_advance($1, $2, $3)";

    private const string DeleteEntriesSql = "DELETE FROM ledger_entry WHERE group_id = $1 AND cmid = ANY($2::uuid[])";

    private const string UpsertEntriesSql = """
        INSERT INTO ledger_entry (group_id, cmid, last_seen, seq)
        SELECT $1, e.cmid, e.last_seen, e.seq FROM unnest($2::uuid[], $3::timestamptz[], $4::bigint[]) AS e (cmid, last_seen, seq)
        ON CONFLICT (group_id, cmid) DO UPDATE SET last_seen = excluded.last_seen, seq = excluded.seq
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

    private const string CountClientsSql = "SELECT count(*) FROM client WHERE group_id = $1 AND last_seen > $2";

    /// <summary>One round trip in one REPEATABLE READ transaction: the group row and every entry in cache order.</summary>
    public async ValueTask<StoredLedger> LoadLedgerAsync(ProductGroup group, CancellationToken cancellationToken)
    {
        CheckGroup(group);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
                Command(LoadGroupSql, (short)group),
                Command(LoadEntriesSql, (short)group),
                new("COMMIT"),
            },
        };
        // BEGIN and COMMIT return no result set: the first is the group row, the second the entries.
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            throw new InvalidOperationException($"The ledger row of {group} is missing; was the schema initialized?");
        }

        int capacity = reader.GetInt32(0);
        long version = reader.GetInt64(1);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        var entries = new List<LedgerEntry>();
        long maxSeq = 0;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            entries.Add(new LedgerEntry(reader.GetGuid(0), reader.GetFieldValue<DateTimeOffset>(1)));
            maxSeq = reader.GetInt64(2);
        }

        return new StoredLedger(group, capacity, entries, version, maxSeq + 1);
    }

    /// <summary>One transaction in one round trip: the version fence (ledger_advance, first, so a stale writer writes
    /// nothing), the ledger changes, the inventory upserts, the history rows and COMMIT; in <see cref="StoreDurability.Process"/>
    /// mode with <c>synchronous_commit = off</c> for this transaction only.</summary>
    public async ValueTask CommitLedgerAsync(LedgerCommit commit, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(commit);
        CheckGroup(commit.Group);
        NpgsqlConnection? connection = null;
        try
        {
            connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (var batch = BuildCommitBatch(connection, commit))
            {
                await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (PostgresException ex) when (ex.SqlState == VersionConflictSqlState)
        {
            await RollBackAsync(connection, clearPool: false).ConfigureAwait(false);
            connection = null;
            throw new LedgerVersionConflictException(commit.Group, commit.ExpectedVersion);
        }
        catch (Exception ex)
        {
            if (_failureLog.TryAcquire(out long suppressed))
            {
                PostgresStoreLog.ApplyFailed(_logger, ex, commit.Group.ToString(), commit.Records.Count, suppressed);
            }
            await RollBackAsync(connection, clearPool: true).ConfigureAwait(false);
            connection = null;
            throw;
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    public async ValueTask<LedgerSnapshot> GetLedgerAsync(ProductGroup group, DateTimeOffset now, CancellationToken cancellationToken)
    {
        CheckGroup(group);
        var cutoff = ProductGroupWriter.TruncateToMicroseconds(now) - ProductGroupLedger.ExpiryPeriod;
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

    /// <summary>An index range scan of <c>client_last_seen (group_id, last_seen)</c>.</summary>
    public async ValueTask<int?> CountClientsSeenSinceAsync(ProductGroup group, DateTimeOffset since, CancellationToken cancellationToken)
    {
        CheckGroup(group);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(CountClientsSql, connection)
        {
            Parameters = { new() { Value = (short)group }, new() { Value = since.ToUniversalTime() } },
        };
        return (int)(long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private NpgsqlBatch BuildCommitBatch(NpgsqlConnection connection, LedgerCommit commit)
    {
        short groupId = (short)commit.Group;
        var batch = new NpgsqlBatch(connection);
        batch.BatchCommands.Add(new NpgsqlBatchCommand("BEGIN"));
        if (_options.Durability == StoreDurability.Process)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SET LOCAL synchronous_commit TO OFF"));
        }

        batch.BatchCommands.Add(Command(AdvanceSql, groupId, commit.ExpectedVersion, commit.Capacity));
        if (commit.RemovedIds.Count > 0)
        {
            batch.BatchCommands.Add(Command(DeleteEntriesSql, groupId, commit.RemovedIds.ToArray()));
        }

        if (commit.Upserted.Count > 0)
        {
            batch.BatchCommands.Add(Command(UpsertEntriesSql, groupId,
                commit.Upserted.Select(e => e.ClientMachineId).ToArray(),
                commit.Upserted.Select(e => ProductGroupWriter.TruncateToMicroseconds(e.LastSeen)).ToArray(),
                commit.Upserted.Select(e => e.Seq).ToArray()));
        }

        if (commit.Records.Count > 0)
        {
            batch.BatchCommands.Add(BuildClientUpsert(groupId, commit.Records, ProductGroupWriter.TruncateToMicroseconds(commit.Time)));
            batch.BatchCommands.Add(BuildHistoryInsert(commit.Records));
        }

        batch.BatchCommands.Add(new NpgsqlBatchCommand("COMMIT"));
        return batch;
    }

    private static NpgsqlBatchCommand BuildClientUpsert(short groupId, IReadOnlyList<ActivationRecord> records, DateTimeOffset now)
    {
        // ON CONFLICT cannot touch one row twice in a statement: one row per CMID, the latest request's details.
        var latest = new Dictionary<Guid, (ActivationRecord Record, long Count)>();
        foreach (var record in records)
        {
            latest[record.ClientMachineId] = (record, (latest.TryGetValue(record.ClientMachineId, out var seen) ? seen.Count : 0) + 1);
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

    private static void CheckGroup(ProductGroup group)
    {
        if (!Enum.IsDefined(group))
        {
            throw new ArgumentOutOfRangeException(nameof(group), group, "Not a product group.");
        }
    }

    /// <summary>After a failure the connection may sit in an open or aborted transaction, or be broken. Roll back if it
    /// can; either way close it. <paramref name="clearPool"/> after an unexpected failure, since that is most often the
    /// database going away and the other idle connections are then dead too.</summary>
    private async Task RollBackAsync(NpgsqlConnection? connection, bool clearPool)
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

        if (clearPool)
        {
            _dataSource.Clear();
        }
    }
}
