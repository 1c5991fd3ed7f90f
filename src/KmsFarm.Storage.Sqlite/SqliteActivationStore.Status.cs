using System.Text;
using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Storage.Sqlite;

/// <summary>The status API's reads: request totals, the client inventory and the history, page by page (migration 4).</summary>
public sealed partial class SqliteActivationStore
{
    private const string ClientColumns =
        """
        group_id, cmid, machine_name, sku_id, kms_counted_id, license_status, is_client_vm, first_seen_utc_ticks,
        last_seen_utc_ticks, last_address, activation_count
        """;

    public async ValueTask<IReadOnlyList<RequestTotal>?> GetRequestTotalsAsync(CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT group_id, license_status, failed, requests FROM request_totals ORDER BY group_id, license_status, failed";
        var totals = new List<RequestTotal>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            int group = reader.GetInt32(0);
            totals.Add(new RequestTotal(group < 0 ? null : (ProductGroup)group, (uint)reader.GetInt64(1), reader.GetInt64(2) != 0, reader.GetInt64(3)));
        }

        return totals;
    }

    /// <summary>Most recently seen first (index <c>client_last_seen</c> when a group is given); the page and the total are
    /// read in one transaction.</summary>
    public async ValueTask<ClientPage?> QueryClientsAsync(ClientQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var transaction = connection.BeginTransaction(deferred: true);
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        var where = new List<string>();
        if (query.Group is { } group)
        {
            where.Add("group_id = $group");
            command.Parameters.AddWithValue("$group", (int)group);
        }

        if (!string.IsNullOrEmpty(query.MachineName))
        {
            where.Add("machine_name LIKE $name ESCAPE '\\'");
            command.Parameters.AddWithValue("$name", "%" + EscapeLike(query.MachineName) + "%");
        }

        if (query.SeenSince is { } since)
        {
            where.Add("last_seen_utc_ticks >= $since");
            command.Parameters.AddWithValue("$since", SqliteValues.ToTicks(since));
        }

        string filter = where.Count == 0 ? string.Empty : " WHERE " + string.Join(" AND ", where);
        command.CommandText = "SELECT count(*) FROM client" + filter;
        long total = (long)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;

        command.CommandText = $"SELECT {ClientColumns} FROM client{filter} ORDER BY last_seen_utc_ticks DESC, cmid, group_id LIMIT $limit OFFSET $offset";
        command.Parameters.AddWithValue("$limit", Math.Clamp(query.Limit, 0, ClientQuery.MaxLimit));
        command.Parameters.AddWithValue("$offset", Math.Max(0, query.Offset));
        var clients = new List<InventoryClient>();
        await using (var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                clients.Add(new InventoryClient(
                    (ProductGroup)reader.GetInt32(0), reader.GetGuidText(1), reader.GetString(2), reader.GetGuidText(3),
                    reader.GetGuidText(4), (uint)reader.GetInt64(5), reader.GetInt64(6) != 0, reader.GetTicks(7),
                    reader.GetTicks(8), reader.GetString(9), null, reader.GetInt64(10)));
            }
        }

        transaction.Commit();
        return new ClientPage(total, clients);
    }

    /// <summary>Newest first by id; only the given filters go into the statement, so SQLite can range-scan the time
    /// index (migration 4) or walk the ids backwards.</summary>
    public async ValueTask<HistoryPage?> QueryHistoryAsync(HistoryQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        var sql = new StringBuilder($"SELECT id, {HistoryColumns} FROM activation_history WHERE 1 = 1");
        if (query.From is { } from)
        {
            sql.Append(" AND time_utc_ticks >= $from");
            command.Parameters.AddWithValue("$from", SqliteValues.ToTicks(from));
        }

        if (query.To is { } to)
        {
            sql.Append(" AND time_utc_ticks < $to");
            command.Parameters.AddWithValue("$to", SqliteValues.ToTicks(to));
        }

        if (query.Group is { } group)
        {
            sql.Append(" AND group_id = $group");
            command.Parameters.AddWithValue("$group", (int)group);
        }

        if (query.Before is { } before)
        {
            sql.Append(" AND id < $before");
            command.Parameters.AddWithValue("$before", before);
        }

        int limit = Math.Clamp(query.Limit, 0, HistoryQuery.MaxLimit);
        sql.Append(" ORDER BY id DESC LIMIT $limit");
        command.Parameters.AddWithValue("$limit", limit + 1);
        command.CommandText = sql.ToString();
        var rows = new List<HistoryRow>();
        bool more = false;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            if (rows.Count == limit)
            {
                more = true;
                break;
            }

            rows.Add(new HistoryRow(reader.GetInt64(0), ReadHistoryRecord(reader, 1)));
        }

        return new HistoryPage(rows, more && rows.Count > 0 ? rows[^1].Id : null);
    }

    private static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}
