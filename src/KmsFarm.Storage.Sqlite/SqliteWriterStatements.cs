using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using Microsoft.Data.Sqlite;

namespace KmsFarm.Storage.Sqlite;

/// <summary>The prepared statements of the single writer connection, compiled once and re-bound per row.
/// Not thread-safe: used only under the store's write lock.</summary>
internal sealed class SqliteWriterStatements : IDisposable
{
    private readonly SqliteCommand _advanceVersion;
    private readonly SqliteCommand _deleteEntry;
    private readonly SqliteCommand _upsertEntry;
    private readonly SqliteCommand _upsertClient;
    private readonly SqliteCommand _insertHistory;

    public SqliteWriterStatements(SqliteConnection connection)
    {
        _advanceVersion = Create(connection,
            "UPDATE ledger SET capacity = $capacity, version = version + 1 WHERE group_id = $group AND version = $expected",
            ("$group", SqliteType.Integer), ("$expected", SqliteType.Integer), ("$capacity", SqliteType.Integer));
        _deleteEntry = Create(connection,
            "DELETE FROM ledger_entry WHERE group_id = $group AND cmid = $cmid",
            ("$group", SqliteType.Integer), ("$cmid", SqliteType.Text));
        _upsertEntry = Create(connection,
            """
            INSERT INTO ledger_entry (group_id, cmid, last_seen_utc_ticks, seq) VALUES ($group, $cmid, $lastSeen, $seq)
            ON CONFLICT (group_id, cmid) DO UPDATE SET last_seen_utc_ticks = excluded.last_seen_utc_ticks, seq = excluded.seq
            """,
            ("$group", SqliteType.Integer), ("$cmid", SqliteType.Text), ("$lastSeen", SqliteType.Integer), ("$seq", SqliteType.Integer));
        _upsertClient = Create(connection,
            """
            INSERT INTO client (group_id, cmid, machine_name, sku_id, kms_counted_id, license_status, is_client_vm,
                                first_seen_utc_ticks, last_seen_utc_ticks, last_address, activation_count)
            VALUES ($group, $cmid, $machineName, $skuId, $kmsCountedId, $licenseStatus, $isClientVm, $seen, $seen, $address, 1)
            ON CONFLICT (cmid, group_id) DO UPDATE SET
                machine_name = excluded.machine_name, sku_id = excluded.sku_id, kms_counted_id = excluded.kms_counted_id,
                license_status = excluded.license_status, is_client_vm = excluded.is_client_vm,
                last_seen_utc_ticks = excluded.last_seen_utc_ticks, last_address = excluded.last_address,
                activation_count = activation_count + 1
            """,
            ("$group", SqliteType.Integer), ("$cmid", SqliteType.Text), ("$machineName", SqliteType.Text),
            ("$skuId", SqliteType.Text), ("$kmsCountedId", SqliteType.Text), ("$licenseStatus", SqliteType.Integer),
            ("$isClientVm", SqliteType.Integer), ("$seen", SqliteType.Integer), ("$address", SqliteType.Text));
        _insertHistory = Create(connection,
            """
            INSERT INTO activation_history (time_utc_ticks, node, client_address, protocol_version, group_id, application_id,
                sku_id, kms_counted_id, cmid, machine_name, license_status, is_client_vm, required_client_count, result,
                current_count, epid)
            VALUES ($time, $node, $address, $protocol, $group, $applicationId, $skuId, $kmsCountedId, $cmid, $machineName,
                $licenseStatus, $isClientVm, $required, $result, $currentCount, $epid)
            """,
            ("$time", SqliteType.Integer), ("$node", SqliteType.Text), ("$address", SqliteType.Text),
            ("$protocol", SqliteType.Integer), ("$group", SqliteType.Integer), ("$applicationId", SqliteType.Text),
            ("$skuId", SqliteType.Text), ("$kmsCountedId", SqliteType.Text), ("$cmid", SqliteType.Text),
            ("$machineName", SqliteType.Text), ("$licenseStatus", SqliteType.Integer), ("$isClientVm", SqliteType.Integer),
            ("$required", SqliteType.Integer), ("$result", SqliteType.Integer), ("$currentCount", SqliteType.Integer),
            ("$epid", SqliteType.Text));
    }

    /// <summary>Binds every statement to <paramref name="transaction"/> (Microsoft.Data.Sqlite requires it).</summary>
    public void Enlist(SqliteTransaction? transaction)
    {
        _advanceVersion.Transaction = transaction;
        _deleteEntry.Transaction = transaction;
        _upsertEntry.Transaction = transaction;
        _upsertClient.Transaction = transaction;
        _insertHistory.Transaction = transaction;
    }

    /// <summary>Moves the group from <paramref name="expectedVersion"/> to the next version and sets its capacity; returns
    /// the rows changed (0 when the group is at another version).</summary>
    public Task<int> AdvanceVersionAsync(ProductGroup group, long expectedVersion, int capacity, CancellationToken cancellationToken)
    {
        var p = _advanceVersion.Parameters;
        p[0].Value = (int)group;
        p[1].Value = expectedVersion;
        p[2].Value = capacity;
        return _advanceVersion.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task<int> DeleteEntryAsync(ProductGroup group, Guid clientMachineId, CancellationToken cancellationToken)
    {
        var p = _deleteEntry.Parameters;
        p[0].Value = (int)group;
        p[1].Value = SqliteValues.ToText(clientMachineId);
        return _deleteEntry.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task<int> UpsertEntryAsync(ProductGroup group, SequencedLedgerEntry entry, CancellationToken cancellationToken)
    {
        var p = _upsertEntry.Parameters;
        p[0].Value = (int)group;
        p[1].Value = SqliteValues.ToText(entry.ClientMachineId);
        p[2].Value = SqliteValues.ToTicks(entry.LastSeen);
        p[3].Value = entry.Seq;
        return _upsertEntry.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task<int> UpsertClientAsync(ProductGroup group, ActivationRecord record, DateTimeOffset seen, CancellationToken cancellationToken)
    {
        var p = _upsertClient.Parameters;
        p[0].Value = (int)group;
        p[1].Value = SqliteValues.ToText(record.ClientMachineId);
        p[2].Value = record.MachineName;
        p[3].Value = SqliteValues.ToText(record.SkuId);
        p[4].Value = SqliteValues.ToText(record.KmsCountedId);
        p[5].Value = (long)record.LicenseStatus;
        p[6].Value = record.IsClientVm ? 1 : 0;
        p[7].Value = SqliteValues.ToTicks(seen);
        p[8].Value = record.ClientAddress;
        return _upsertClient.ExecuteNonQueryAsync(cancellationToken);
    }

    public Task<int> InsertHistoryAsync(ActivationRecord record, CancellationToken cancellationToken)
    {
        var p = _insertHistory.Parameters;
        p[0].Value = SqliteValues.ToTicks(record.Time);
        p[1].Value = record.Node;
        p[2].Value = record.ClientAddress;
        p[3].Value = record.ProtocolVersion;
        p[4].Value = record.Group is { } group ? (int)group : DBNull.Value;
        p[5].Value = SqliteValues.ToText(record.ApplicationId);
        p[6].Value = SqliteValues.ToText(record.SkuId);
        p[7].Value = SqliteValues.ToText(record.KmsCountedId);
        p[8].Value = SqliteValues.ToText(record.ClientMachineId);
        p[9].Value = record.MachineName;
        p[10].Value = (long)record.LicenseStatus;
        p[11].Value = record.IsClientVm ? 1 : 0;
        p[12].Value = record.RequiredClientCount;
        p[13].Value = (long)record.Result;
        p[14].Value = record.CurrentCount is { } count ? count : DBNull.Value;
        p[15].Value = record.Epid is { } epid ? epid : DBNull.Value;
        return _insertHistory.ExecuteNonQueryAsync(cancellationToken);
    }

    public void Dispose()
    {
        _advanceVersion.Dispose();
        _deleteEntry.Dispose();
        _upsertEntry.Dispose();
        _upsertClient.Dispose();
        _insertHistory.Dispose();
    }

    private static SqliteCommand Create(SqliteConnection connection, string sql, params (string Name, SqliteType Type)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, type) in parameters)
        {
            command.Parameters.Add(name, type);
        }

        command.Prepare();
        return command;
    }
}
