using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Kms;
using Microsoft.Data.Sqlite;

namespace KmsFarm.Storage.Sqlite;

public sealed partial class SqliteActivationStore
{
    private const string HistoryColumns =
        """
        time_utc_ticks, node, client_address, protocol_version, group_id, application_id, sku_id, kms_counted_id, cmid,
        machine_name, license_status, is_client_vm, required_client_count, result, current_count, epid
        """;

    public async ValueTask<FarmIdentity> GetOrCreateIdentityAsync(Func<FarmIdentity> create, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(create);
        if (_identity is { } cached)
        {
            return cached;
        }

        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_identity is { } loaded)
            {
                return loaded;
            }

            var writer = _writer!;
            using var transaction = writer.BeginTransaction(deferred: false);
            var identity = await ReadIdentityAsync(writer, transaction, cancellationToken).ConfigureAwait(false);
            if (identity is null)
            {
                var created = create() ?? throw new InvalidOperationException("The identity factory returned null.");
                await InsertIdentityAsync(writer, transaction, created, cancellationToken).ConfigureAwait(false);

                // Hand out what a later read returns (times normalized to UTC), so every caller sees the same value.
                identity = await ReadIdentityAsync(writer, transaction, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
                SqliteStoreLog.IdentityCreated(_logger, created.Csvlks.Count);
            }

            _identity = identity;
            return identity!;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async ValueTask AppendRefusalAsync(ActivationRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var statements = _statements!;
            using var transaction = _writer!.BeginTransaction(deferred: false);
            statements.Enlist(transaction);
            try
            {
                await statements.InsertHistoryAsync(record, cancellationToken).ConfigureAwait(false);
                await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
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

    public async ValueTask<bool> TryClaimHistoryPurgeAsync(DateTimeOffset now, TimeSpan interval, CancellationToken cancellationToken) =>
        await WriteAsync(
            """
            INSERT INTO maintenance_run (task, last_started_utc_ticks, runs) VALUES ('history-purge', $now, 1)
            ON CONFLICT (task) DO UPDATE SET last_started_utc_ticks = excluded.last_started_utc_ticks, runs = runs + 1
            WHERE last_started_utc_ticks <= excluded.last_started_utc_ticks - $interval
            """,
            [("$now", now.UtcTicks), ("$interval", interval.Ticks)],
            cancellationToken).ConfigureAwait(false) == 1;

    public async ValueTask<int> DeleteHistoryBeforeAsync(DateTimeOffset cutoff, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        return await WriteAsync(
            """
            DELETE FROM activation_history WHERE id IN
                (SELECT id FROM activation_history WHERE time_utc_ticks < $cutoff ORDER BY time_utc_ticks, id LIMIT $limit)
            """,
            [("$cutoff", cutoff.UtcTicks), ("$limit", (long)batchSize)],
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One statement in its own write transaction on the writer connection; returns the rows it changed.</summary>
    private async Task<int> WriteAsync(string sql, (string Name, long Value)[] parameters, CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var transaction = _writer!.BeginTransaction(deferred: false);
            using var command = _writer.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = sql;
            foreach (var (name, value) in parameters)
            {
                command.Parameters.AddWithValue(name, value);
            }

            int changed = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return changed;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async ValueTask<IReadOnlyList<ActivationRecord>> GetHistoryAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT {HistoryColumns} FROM activation_history ORDER BY id DESC LIMIT $limit";
        command.Parameters.AddWithValue("$limit", limit);
        var records = new List<ActivationRecord>(Math.Min(limit, 1024));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            records.Add(ReadHistoryRecord(reader, 0));
        }

        return records;
    }

    /// <summary>The client inventory: every machine counted in <paramref name="group"/> (all groups when null), most
    /// recently seen first, at most <paramref name="limit"/> rows.</summary>
    public async ValueTask<IReadOnlyList<ClientInventoryEntry>> GetClientsAsync(
        ProductGroup? group, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText =
            """
            SELECT group_id, cmid, machine_name, sku_id, kms_counted_id, license_status, is_client_vm,
                   first_seen_utc_ticks, last_seen_utc_ticks, last_address, activation_count
            FROM client
            WHERE $group IS NULL OR group_id = $group
            ORDER BY last_seen_utc_ticks DESC, cmid
            LIMIT $limit
            """;
        command.Parameters.AddWithValue("$group", group is { } g ? (int)g : DBNull.Value);
        command.Parameters.AddWithValue("$limit", limit);
        var clients = new List<ClientInventoryEntry>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            clients.Add(new ClientInventoryEntry(
                (ProductGroup)reader.GetInt32(0), reader.GetGuidText(1), reader.GetString(2), reader.GetGuidText(3),
                reader.GetGuidText(4), (uint)reader.GetInt64(5), reader.GetInt64(6) != 0, reader.GetTicks(7),
                reader.GetTicks(8), reader.GetString(9), reader.GetInt64(10)));
        }

        return clients;
    }

    /// <summary>A history row's <see cref="HistoryColumns"/>, starting at column <paramref name="first"/>.</summary>
    private static ActivationRecord ReadHistoryRecord(SqliteDataReader reader, int first) => new()
    {
        Time = reader.GetTicks(first),
        Node = reader.GetString(first + 1),
        ClientAddress = reader.GetString(first + 2),
        ProtocolVersion = reader.GetInt32(first + 3),
        Group = reader.IsDBNull(first + 4) ? null : (ProductGroup)reader.GetInt32(first + 4),
        ApplicationId = reader.GetGuidText(first + 5),
        SkuId = reader.GetGuidText(first + 6),
        KmsCountedId = reader.GetGuidText(first + 7),
        ClientMachineId = reader.GetGuidText(first + 8),
        MachineName = reader.GetString(first + 9),
        LicenseStatus = (uint)reader.GetInt64(first + 10),
        IsClientVm = reader.GetInt64(first + 11) != 0,
        RequiredClientCount = reader.GetInt32(first + 12),
        Result = (uint)reader.GetInt64(first + 13),
        CurrentCount = reader.IsDBNull(first + 14) ? null : reader.GetInt32(first + 14),
        Epid = reader.IsDBNull(first + 15) ? null : reader.GetString(first + 15),
    };

    private static async Task<FarmIdentity?> ReadIdentityAsync(
        SqliteConnection connection, SqliteTransaction transaction, CancellationToken cancellationToken)
    {
        int hostBuild, lcid;
        DateTimeOffset created;
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT host_build, lcid, created_utc_ticks FROM farm_identity WHERE id = 1";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                return null;
            }

            (hostBuild, lcid, created) = (reader.GetInt32(0), reader.GetInt32(1), reader.GetTicks(2));
        }

        var csvlks = new List<CsvlkIdentity>();
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT csvlk_id, epid, hwid FROM farm_csvlk WHERE identity_id = 1 ORDER BY position";
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                csvlks.Add(new CsvlkIdentity(reader.GetString(0), reader.GetString(1), HardwareId.Parse(reader.GetString(2))));
            }
        }

        return new FarmIdentity(hostBuild, lcid, created, csvlks);
    }

    private static async Task InsertIdentityAsync(
        SqliteConnection connection, SqliteTransaction transaction, FarmIdentity identity, CancellationToken cancellationToken)
    {
        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText =
                "INSERT INTO farm_identity (id, host_build, lcid, created_utc_ticks) VALUES (1, $hostBuild, $lcid, $created)";
            command.Parameters.AddWithValue("$hostBuild", identity.HostBuild);
            command.Parameters.AddWithValue("$lcid", identity.Lcid);
            command.Parameters.AddWithValue("$created", SqliteValues.ToTicks(identity.Created));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText =
                "INSERT INTO farm_csvlk (csvlk_id, identity_id, position, epid, hwid) VALUES ($id, 1, $position, $epid, $hwid)";
            var id = command.Parameters.Add("$id", SqliteType.Text);
            var position = command.Parameters.Add("$position", SqliteType.Integer);
            var epid = command.Parameters.Add("$epid", SqliteType.Text);
            var hwid = command.Parameters.Add("$hwid", SqliteType.Text);
            for (int i = 0; i < identity.Csvlks.Count; i++)
            {
                var csvlk = identity.Csvlks[i];
                id.Value = csvlk.CsvlkId;
                position.Value = i;
                epid.Value = csvlk.Epid;
                hwid.Value = csvlk.HwId.ToString();
                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
