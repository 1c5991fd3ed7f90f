using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;

namespace KmsFarm.Storage.Sqlite.Tests;

/// <summary>What the status API reads: request totals (kept by the history trigger of migration 4), the client inventory
/// and the history, page by page.</summary>
public sealed class StatusQueryTests : StoreTestBase
{
    [Fact]
    public async Task Totals_count_every_history_row_by_group_license_status_and_outcome_and_outlive_deleted_rows()
    {
        var store = await OpenAsync();
        Assert.Empty((await store.GetRequestTotalsAsync(Ct))!);
        await store.ApplyAsync(ProductGroup.Windows, [Attempt(Cmid(1), T0), Attempt(Cmid(2), T0), Attempt(Cmid(1), T0)], T0, Ct);
        await store.ApplyAsync(ProductGroup.Office2010, [Attempt(Cmid(3), T0, ProductGroup.Office2010, 5)], T0, Ct);
        await store.AppendRefusalAsync(Record(Cmid(4), ProductGroup.Windows, 25, T0, result: 0xC004F042) with { LicenseStatus = 1 }, Ct);
        await store.AppendRefusalAsync(Record(Cmid(5), null, 25, T0, result: 0xC004F042), Ct);

        RequestTotal[] expected =
        [
            new(null, 2, true, 1),
            new(ProductGroup.Windows, 1, true, 1),
            new(ProductGroup.Windows, 2, false, 3),
            new(ProductGroup.Office2010, 2, false, 1),
        ];
        Assert.Equal(expected, await store.GetRequestTotalsAsync(Ct));

        using (var raw = OpenRaw())
        {
            Execute(raw, "DELETE FROM activation_history"); // what history retention does to old rows
        }

        Assert.Equal(expected, await store.GetRequestTotalsAsync(Ct));
    }

    [Fact]
    public async Task Migration_4_counts_the_rows_already_in_the_history()
    {
        using (var raw = OpenRaw())
        {
            Execute(raw, "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL) STRICT");
            foreach (var migration in SqliteMigrator.Migrations.Where(m => m.Version <= 3))
            {
                Execute(raw, migration.Sql);
                Execute(raw, $"INSERT INTO schema_migrations VALUES ({migration.Version}, 'earlier')");
            }

            foreach (var (group, result) in new (string, long)[] { ("0", 0), ("0", 0), ("2", 0), ("NULL", 3221549122) })
            {
                Execute(raw,
                    "INSERT INTO activation_history (time_utc_ticks, node, client_address, protocol_version, group_id, application_id, sku_id, " +
                    "kms_counted_id, cmid, machine_name, license_status, is_client_vm, required_client_count, result) " +
                    $"VALUES (1, 'n', 'a', 6, {group}, 'x', 'x', 'x', 'x', 'm', 2, 0, 25, {result})");
            }
        }

        var store = await OpenAsync();
        Assert.Equal(
            [new RequestTotal(null, 2, true, 1), new RequestTotal(ProductGroup.Windows, 2, false, 2), new RequestTotal(ProductGroup.Office2013Plus, 2, false, 1)],
            await store.GetRequestTotalsAsync(Ct));
    }

    [Fact]
    public async Task The_client_inventory_is_paged_most_recent_first_and_filtered_by_group_name_and_time()
    {
        var store = await OpenAsync();
        for (int i = 0; i < 5; i++)
        {
            await store.ApplyAsync(ProductGroup.Windows, [Attempt(Cmid(i), T0.AddMinutes(i), machine: $"lab-{i}")], T0.AddMinutes(i), Ct);
        }

        await store.ApplyAsync(ProductGroup.Office2013Plus, [Attempt(Cmid(9), T0, ProductGroup.Office2013Plus, 5, machine: "odd%name_")], T0, Ct);

        var all = (await store.QueryClientsAsync(new ClientQuery(null, null, null, 0, 100), Ct))!;
        Assert.Equal(6, all.Total);
        Assert.Equal(["lab-4", "lab-3", "lab-2", "lab-1", "lab-0", "odd%name_"], all.Items.Select(c => c.MachineName));
        Assert.Null(all.Items[0].LastNode);

        var page = (await store.QueryClientsAsync(new ClientQuery(ProductGroup.Windows, null, null, 1, 2), Ct))!;
        Assert.Equal(5L, page.Total);
        Assert.Equal(["lab-3", "lab-2"], page.Items.Select(c => c.MachineName));

        var named = (await store.QueryClientsAsync(new ClientQuery(null, "LAB-2", null, 0, 10), Ct))!;
        Assert.Equal("lab-2", Assert.Single(named.Items).MachineName);
        // LIKE's wildcards in the text are literal.
        Assert.Equal("odd%name_", Assert.Single((await store.QueryClientsAsync(new ClientQuery(null, "%name_", null, 0, 10), Ct))!.Items).MachineName);
        Assert.Empty((await store.QueryClientsAsync(new ClientQuery(null, "b%", null, 0, 10), Ct))!.Items);

        var recent = (await store.QueryClientsAsync(new ClientQuery(null, null, T0.AddMinutes(3), 0, 10), Ct))!;
        Assert.Equal(["lab-4", "lab-3"], recent.Items.Select(c => c.MachineName));
    }

    [Fact]
    public async Task The_history_is_paged_newest_first_by_id_and_filtered_by_time_and_group()
    {
        var store = await OpenAsync();
        for (int i = 0; i < 7; i++)
        {
            await store.ApplyAsync(ProductGroup.Windows, [Attempt(Cmid(i), T0.AddMinutes(i), machine: $"pc-{i}")], T0.AddMinutes(i), Ct);
        }

        await store.AppendRefusalAsync(Record(Cmid(8), null, 25, T0.AddMinutes(10), result: 0xC004F042, machine: "refused"), Ct);

        var seen = new List<string>();
        long? before = null;
        do
        {
            var page = (await store.QueryHistoryAsync(new HistoryQuery(null, null, null, before, 3), Ct))!;
            Assert.InRange(page.Items.Count, 1, 3);
            seen.AddRange(page.Items.Select(r => r.Record.MachineName));
            before = page.Next;
        }
        while (before is not null);

        Assert.Equal(["refused", "pc-6", "pc-5", "pc-4", "pc-3", "pc-2", "pc-1", "pc-0"], seen);

        var window = (await store.QueryHistoryAsync(new HistoryQuery(T0.AddMinutes(2), T0.AddMinutes(5), null, null, 10), Ct))!;
        Assert.Equal(["pc-4", "pc-3", "pc-2"], window.Items.Select(r => r.Record.MachineName));
        Assert.Null(window.Next);
        var windows = (await store.QueryHistoryAsync(new HistoryQuery(null, null, ProductGroup.Windows, null, 1), Ct))!;
        Assert.Equal("pc-6", Assert.Single(windows.Items).Record.MachineName);
        Assert.NotNull(windows.Next);
        Assert.Equal(Record(Cmid(6), ProductGroup.Windows, 25, T0.AddMinutes(6), machine: "pc-6") with { CurrentCount = 7 }, windows.Items[0].Record);
    }
}
