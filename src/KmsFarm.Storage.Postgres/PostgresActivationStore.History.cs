using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using Npgsql;

namespace KmsFarm.Storage.Postgres;

public sealed partial class PostgresActivationStore
{
    private const string InsertHistorySql = """
        INSERT INTO activation_history (time, node, client_address, protocol_version, group_id, application_id, sku_id,
                                        kms_counted_id, cmid, machine_name, license_status, is_client_vm,
                                        required_client_count, result, current_count, epid)
        SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::integer[], $5::smallint[], $6::uuid[], $7::uuid[],
                             $8::uuid[], $9::uuid[], $10::text[], $11::bigint[], $12::boolean[], $13::integer[], $14::bigint[],
                             $15::integer[], $16::text[])
        """;

    private const string SelectHistorySql = """
        SELECT time, node, client_address, protocol_version, group_id, application_id, sku_id, kms_counted_id, cmid,
               machine_name, license_status, is_client_vm, required_client_count, result, current_count, epid
        FROM activation_history ORDER BY id DESC LIMIT $1
        """;

    public async ValueTask AppendRefusalAsync(ActivationRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection) { BatchCommands = { BuildHistoryInsert([record]) } };
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> TryClaimHistoryPurgeAsync(DateTimeOffset now, TimeSpan interval, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            INSERT INTO maintenance_run AS m (task, last_started, runs) VALUES ('history-purge', $1, 1)
            ON CONFLICT (task) DO UPDATE SET last_started = excluded.last_started, runs = m.runs + 1
            WHERE m.last_started <= excluded.last_started - $2
            """, connection)
        {
            Parameters = { new() { Value = TruncateToMicroseconds(now) }, new() { Value = interval } },
        };
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
    }

    public async ValueTask<int> DeleteHistoryBeforeAsync(DateTimeOffset cutoff, int batchSize, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("""
            DELETE FROM activation_history WHERE id IN
                (SELECT id FROM activation_history WHERE time < $1 ORDER BY time, id LIMIT $2)
            """, connection)
        {
            Parameters = { new() { Value = cutoff.ToUniversalTime() }, new() { Value = batchSize } },
        };
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<IReadOnlyList<ActivationRecord>> GetHistoryAsync(int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(SelectHistorySql, connection) { Parameters = { new() { Value = limit } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var records = new List<ActivationRecord>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            records.Add(new ActivationRecord
            {
                Time = reader.GetFieldValue<DateTimeOffset>(0),
                Node = reader.GetString(1),
                ClientAddress = reader.GetString(2),
                ProtocolVersion = reader.GetInt32(3),
                Group = reader.IsDBNull(4) ? null : (ProductGroup)reader.GetInt16(4),
                ApplicationId = reader.GetGuid(5),
                SkuId = reader.GetGuid(6),
                KmsCountedId = reader.GetGuid(7),
                ClientMachineId = reader.GetGuid(8),
                MachineName = reader.GetString(9),
                LicenseStatus = unchecked((uint)reader.GetInt64(10)),
                IsClientVm = reader.GetBoolean(11),
                RequiredClientCount = reader.GetInt32(12),
                Result = unchecked((uint)reader.GetInt64(13)),
                CurrentCount = reader.IsDBNull(14) ? null : reader.GetInt32(14),
                Epid = reader.IsDBNull(15) ? null : reader.GetString(15),
            });
        }

        return records;
    }

    private static NpgsqlBatchCommand BuildHistoryInsert(IEnumerable<ActivationRecord> records)
    {
        var rows = records.ToArray();
        return Command(InsertHistorySql,
            rows.Select(r => TruncateToMicroseconds(r.Time)).ToArray(),
            rows.Select(r => r.Node).ToArray(),
            rows.Select(r => r.ClientAddress).ToArray(),
            rows.Select(r => r.ProtocolVersion).ToArray(),
            rows.Select(r => (short?)r.Group).ToArray(),
            rows.Select(r => r.ApplicationId).ToArray(),
            rows.Select(r => r.SkuId).ToArray(),
            rows.Select(r => r.KmsCountedId).ToArray(),
            rows.Select(r => r.ClientMachineId).ToArray(),
            rows.Select(r => r.MachineName).ToArray(),
            rows.Select(r => (long)r.LicenseStatus).ToArray(),
            rows.Select(r => r.IsClientVm).ToArray(),
            rows.Select(r => r.RequiredClientCount).ToArray(),
            rows.Select(r => (long)r.Result).ToArray(),
            rows.Select(r => r.CurrentCount).ToArray(),
            rows.Select(r => r.Epid).ToArray());
    }
}
