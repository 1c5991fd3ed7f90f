using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using Npgsql;
using static KmsFarm.Storage.Postgres.Tests.Attempts;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>What the status API reads from the farm store: request totals (kept by the statement trigger of migration 5),
/// the client inventory and the history, page by page.</summary>
[Trait("Category", "Integration")]
public sealed class StatusQueryTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Totals_count_every_history_row_by_group_license_status_and_outcome_and_outlive_deleted_rows()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using var store = await OpenAsync(db);
        var c = Cmids(4);
        await store.ApplyAsync(ProductGroup.Windows, [For(c[0]), For(c[1]), For(c[0])], T0, Ct);
        await store.ApplyAsync(ProductGroup.Office2010, [For(c[2], 5, ProductGroup.Office2010)], T0, Ct);
        var refusal = For(c[3]).Record with { Result = 0xC004F042, LicenseStatus = 1 };
        await store.AppendRefusalAsync(refusal, Ct);
        await store.AppendRefusalAsync(refusal with { Group = null, LicenseStatus = 2 }, Ct);

        RequestTotal[] expected =
        [
            new(null, 2, true, 1),
            new(ProductGroup.Windows, 1, true, 1),
            new(ProductGroup.Windows, 2, false, 3),
            new(ProductGroup.Office2010, 2, false, 1),
        ];
        Assert.Equal(expected, await store.GetRequestTotalsAsync(Ct));
        await ExecuteAsync(db, "DELETE FROM activation_history");
        Assert.Equal(expected, await store.GetRequestTotalsAsync(Ct));
    }

    [Fact]
    public async Task Migration_5_counts_the_rows_already_in_the_history()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await ExecuteAsync(db, "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL, applied timestamptz NOT NULL DEFAULT now())");
        foreach (var migration in PostgresMigrations.All.Where(m => m.Version <= 4))
        {
            await ExecuteAsync(db, migration.Sql);
            await ExecuteAsync(db, $"INSERT INTO schema_migrations (version, name, sha256) VALUES ({migration.Version}, '{migration.Name}', '{migration.Sha256}')");
        }

        foreach (var (group, result) in new (string, long)[] { ("0", 0), ("0", 0), ("2", 0), ("NULL", 3221549122) })
        {
            await ExecuteAsync(db,
                "INSERT INTO activation_history (time, node, client_address, protocol_version, group_id, application_id, sku_id, kms_counted_id, " +
                "cmid, machine_name, license_status, is_client_vm, required_client_count, result) VALUES (now(), 'n', 'a', 6, " +
                $"{group}, gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'm', 2, false, 25, {result})");
        }

        await using var store = await OpenAsync(db);
        Assert.Equal(
            [new RequestTotal(null, 2, true, 1), new RequestTotal(ProductGroup.Windows, 2, false, 2), new RequestTotal(ProductGroup.Office2013Plus, 2, false, 1)],
            await store.GetRequestTotalsAsync(Ct));
    }

    [Fact]
    public async Task Clients_and_history_are_paged_newest_first_and_filtered()
    {
        await using var store = await OpenAsync(await postgres.CreateDatabaseAsync(Ct));
        var c = Cmids(6);
        for (int i = 0; i < 5; i++)
        {
            await store.ApplyOneAsync(c[i], now: T0.AddMinutes(i), machine: $"lab-{i}");
        }

        await store.ApplyOneAsync(c[5], 5, ProductGroup.Office2013Plus, T0, machine: "odd%name_");

        var page = (await store.QueryClientsAsync(new ClientQuery(ProductGroup.Windows, null, null, 1, 2), Ct))!;
        Assert.Equal(5L, page.Total);
        Assert.Equal(["lab-3", "lab-2"], page.Items.Select(i => i.MachineName));
        Assert.Equal("node-a", page.Items[0].LastNode);
        Assert.Equal("lab-2", Assert.Single((await store.QueryClientsAsync(new ClientQuery(null, "LAB-2", null, 0, 10), Ct))!.Items).MachineName);
        Assert.Equal("odd%name_", Assert.Single((await store.QueryClientsAsync(new ClientQuery(null, "%name_", null, 0, 10), Ct))!.Items).MachineName);
        Assert.Equal(["lab-4", "lab-3"], (await store.QueryClientsAsync(new ClientQuery(null, null, T0.AddMinutes(3), 0, 10), Ct))!.Items.Select(i => i.MachineName));

        var seen = new List<string>();
        long? before = null;
        do
        {
            var history = (await store.QueryHistoryAsync(new HistoryQuery(null, null, ProductGroup.Windows, before, 2), Ct))!;
            seen.AddRange(history.Items.Select(r => r.Record.MachineName));
            before = history.Next;
        }
        while (before is not null);

        Assert.Equal(["lab-4", "lab-3", "lab-2", "lab-1", "lab-0"], seen);
        var window = (await store.QueryHistoryAsync(new HistoryQuery(T0.AddMinutes(1), T0.AddMinutes(3), null, null, 10), Ct))!;
        Assert.Equal(["lab-2", "lab-1"], window.Items.Select(r => r.Record.MachineName));
        Assert.Equal(For(c[2], machine: "lab-2", time: T0.AddMinutes(2)).Record with { CurrentCount = 3 }, window.Items[0].Record);
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync(Ct);
#pragma warning disable CA2100 // Test SQL literals and the embedded migration scripts.
        await using var command = new NpgsqlCommand(sql, connection);
#pragma warning restore CA2100
        await command.ExecuteNonQueryAsync(Ct);
    }
}
