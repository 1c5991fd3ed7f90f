using System.Text;
using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using Npgsql;

namespace KmsFarm.Storage.Postgres;

/// <summary>The status API's reads: the farm's request totals (migration 5), the client inventory and the history, page
/// by page. None of them is on the serving path.</summary>
public sealed partial class PostgresActivationStore
{
    private const string SelectTotalsSql =
        "SELECT group_id, license_status, failed, requests FROM request_totals ORDER BY group_id, license_status, failed";

    private const string ClientColumns = """
        group_id, cmid, machine_name, sku_id, kms_counted_id, license_status, is_client_vm, first_seen, last_seen, last_address,
        last_node, activation_count
        """;

    private const string HistoryColumns = """
        time, node, client_address, protocol_version, group_id, application_id, sku_id, kms_counted_id, cmid, machine_name,
        license_status, is_client_vm, required_client_count, result, current_count, epid
        """;

    public async ValueTask<IReadOnlyList<RequestTotal>?> GetRequestTotalsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(SelectTotalsSql, connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var totals = new List<RequestTotal>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            short group = reader.GetInt16(0);
            totals.Add(new RequestTotal(group < 0 ? null : (ProductGroup)group, unchecked((uint)reader.GetInt64(1)), reader.GetBoolean(2), reader.GetInt64(3)));
        }

        return totals;
    }

    /// <summary>Most recently seen first; the page and the total in one REPEATABLE READ snapshot (one round trip).</summary>
    public async ValueTask<ClientPage?> QueryClientsAsync(ClientQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var where = new List<string>();
        var parameters = new List<object>();
        if (query.Group is { } group)
        {
            parameters.Add((short)group);
            where.Add($"group_id = ${parameters.Count}");
        }

        if (!string.IsNullOrEmpty(query.MachineName))
        {
            parameters.Add("%" + EscapeLike(query.MachineName) + "%");
            where.Add($"machine_name ILIKE ${parameters.Count}");
        }

        if (query.SeenSince is { } since)
        {
            parameters.Add(since.ToUniversalTime());
            where.Add($"last_seen >= ${parameters.Count}");
        }

        string filter = where.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", where);
        object[] pageParameters = [.. parameters, Math.Clamp(query.Limit, 0, ClientQuery.MaxLimit), Math.Max(0, query.Offset)];
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
                Command("SELECT count(*) FROM client" + filter, [.. parameters]),
                Command($"SELECT {ClientColumns} FROM client{filter} ORDER BY last_seen DESC, cmid, group_id " +
                    $"LIMIT ${parameters.Count + 1} OFFSET ${parameters.Count + 2}", pageParameters),
                new("COMMIT"),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
        long total = reader.GetInt64(0);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        var clients = new List<InventoryClient>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            clients.Add(new InventoryClient(
                (ProductGroup)reader.GetInt16(0), reader.GetGuid(1), reader.GetString(2), reader.GetGuid(3), reader.GetGuid(4),
                unchecked((uint)reader.GetInt64(5)), reader.GetBoolean(6), reader.GetFieldValue<DateTimeOffset>(7),
                reader.GetFieldValue<DateTimeOffset>(8), reader.GetString(9), reader.GetString(10), reader.GetInt64(11)));
        }

        return new ClientPage(total, clients);
    }

    /// <summary>Newest first by id; only the given filters go into the statement, so the planner can range-scan
    /// <c>activation_history_time</c> or walk the primary key backwards.</summary>
    public async ValueTask<HistoryPage?> QueryHistoryAsync(HistoryQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var sql = new StringBuilder($"SELECT id, {HistoryColumns} FROM activation_history WHERE true");
        var parameters = new List<object>();
        if (query.From is { } from)
        {
            parameters.Add(from.ToUniversalTime());
            sql.Append(" AND time >= $").Append(parameters.Count);
        }

        if (query.To is { } to)
        {
            parameters.Add(to.ToUniversalTime());
            sql.Append(" AND time < $").Append(parameters.Count);
        }

        if (query.Group is { } group)
        {
            parameters.Add((short)group);
            sql.Append(" AND group_id = $").Append(parameters.Count);
        }

        if (query.Before is { } before)
        {
            parameters.Add(before);
            sql.Append(" AND id < $").Append(parameters.Count);
        }

        int limit = Math.Clamp(query.Limit, 0, HistoryQuery.MaxLimit);
        parameters.Add(limit + 1);
        sql.Append(" ORDER BY id DESC LIMIT $").Append(parameters.Count);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var batch = new NpgsqlBatch(connection) { BatchCommands = { Command(sql.ToString(), [.. parameters]) } };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var rows = new List<HistoryRow>();
        bool more = false;
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (rows.Count == limit)
            {
                more = true;
                break;
            }

            rows.Add(new HistoryRow(reader.GetInt64(0), new ActivationRecord
            {
                Time = reader.GetFieldValue<DateTimeOffset>(1),
                Node = reader.GetString(2),
                ClientAddress = reader.GetString(3),
                ProtocolVersion = reader.GetInt32(4),
                Group = reader.IsDBNull(5) ? null : (ProductGroup)reader.GetInt16(5),
                ApplicationId = reader.GetGuid(6),
                SkuId = reader.GetGuid(7),
                KmsCountedId = reader.GetGuid(8),
                ClientMachineId = reader.GetGuid(9),
                MachineName = reader.GetString(10),
                LicenseStatus = unchecked((uint)reader.GetInt64(11)),
                IsClientVm = reader.GetBoolean(12),
                RequiredClientCount = reader.GetInt32(13),
                Result = unchecked((uint)reader.GetInt64(14)),
                CurrentCount = reader.IsDBNull(15) ? null : reader.GetInt32(15),
                Epid = reader.IsDBNull(16) ? null : reader.GetString(16),
            }));
        }

        return new HistoryPage(rows, more && rows.Count > 0 ? rows[^1].Id : null);
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
