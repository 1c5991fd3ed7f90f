using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using Npgsql;
using static KmsFarm.Storage.Postgres.Tests.Attempts;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>A node whose copy of a cache is stale reads only the entries written since it and checks the result against the
/// row's count and fingerprint; anything else makes it read the whole cache.</summary>
[Trait("Category", "Cluster")]
public sealed class IncrementalRefreshTests(PostgresFixture postgres)
{
    private const string RecomputeSql = """
        SELECT g.entry_count = count(e.cmid)::integer
               AND g.fingerprint = coalesce(bit_xor(('x' || encode(substr(sha256(uuid_send(e.cmid)), 1, 8), 'hex'))::bit(64)::bigint), 0)
        FROM ledger_group g LEFT JOIN ledger_entry e ON e.group_id = g.group_id
        WHERE g.group_id = 0 GROUP BY g.group_id, g.entry_count, g.fingerprint
        """;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Two_nodes_alternating_with_evictions_and_renewals_match_one_host(int seed)
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using var a = await OpenAsync(db);
        await using var b = await OpenAsync(db);
        var host = new ProductGroupLedger(ProductGroup.Windows);
        var random = new Random(seed);
        var cmids = Cmids(30);

        // N_Policy 5 (capacity 10) over 30 machines, batches of 1 to 3, alternating nodes: most batches evict, many renew.
        for (int i = 0; i < 80; i++)
        {
            var batch = Enumerable.Range(0, 1 + random.Next(3)).Select(_ => For(cmids[random.Next(cmids.Length)], nPolicy: 5)).ToArray();
            var node = i % 2 == 0 ? a : b;
            var outcomes = await node.ApplyAsync(ProductGroup.Windows, batch, T0, Ct);
            var expected = batch.Select(x => host.Apply(x.ClientMachineId, x.RequiredClientCount, T0)).ToArray();
            Assert.Equal(expected, outcomes);
        }

        Assert.Equal(host.ToSnapshot().Entries, (await a.GetLedgerAsync(ProductGroup.Windows, T0, Ct)).Entries);
        Assert.True(await ScalarAsync<bool>(db, RecomputeSql));
        Assert.Equal(0, a.RefreshFallbacks + b.RefreshFallbacks);
        Assert.Equal(1, a.FullReloads);
        Assert.Equal(1, b.FullReloads);
        Assert.Equal(39, a.IncrementalRefreshes);
        Assert.Equal(39, b.IncrementalRefreshes);
    }

    [Fact]
    public async Task Expiry_by_one_node_is_seen_by_the_other()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using var a = await OpenAsync(db);
        await using var b = await OpenAsync(db);
        var c = Cmids(6);
        foreach (var cmid in c[..5])
        {
            await a.ApplyOneAsync(cmid, now: T0);
        }

        Assert.Equal(6, await b.ApplyOneAsync(c[5], now: T0.AddDays(2)));

        // a, 31 days on, expires the five it wrote; c[5] (seen a day later) stays.
        var x = Guid.NewGuid();
        Assert.Equal(2, await a.ApplyOneAsync(x, now: T0.AddDays(31)));

        // b's clock is behind: it would not expire them itself, so only the refresh tells it they are gone.
        Assert.Equal(3, await b.ApplyOneAsync(Guid.NewGuid(), now: T0.AddDays(2).AddHours(1)));
        Assert.Equal(1, b.IncrementalRefreshes);
        Assert.Equal(0, b.RefreshFallbacks);
        Assert.True(await ScalarAsync<bool>(db, RecomputeSql));
    }

    [Fact]
    public async Task A_removal_not_at_the_front_falls_back_to_a_full_reload()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using var a = await OpenAsync(db);
        await using var b = await OpenAsync(db);
        var c = Cmids(2);

        // c[0] is older in the cache order but seen later (a's clock ahead of b's); expiry then removes c[1], behind it.
        Assert.Equal(1, await a.ApplyOneAsync(c[0], now: T0.AddDays(5)));
        Assert.Equal(2, await b.ApplyOneAsync(c[1], now: T0));
        Assert.Equal(2, await a.ApplyOneAsync(Guid.NewGuid(), now: T0.AddDays(31)));

        // Trimming b's copy from the front would keep c[1] and drop c[0]: the fingerprint says no, and b reloads.
        Assert.Equal(new LedgerOutcome(2, false), (await b.ApplyAsync(ProductGroup.Windows, [For(c[0])], T0.AddDays(6), Ct))[0]);
        Assert.Equal(1, b.RefreshFallbacks);
        Assert.Equal(2, b.FullReloads);
        Assert.Equal(0, b.IncrementalRefreshes);
        Assert.True(await ScalarAsync<bool>(db, RecomputeSql));
    }

    [Fact]
    public async Task A_corrupted_fingerprint_makes_the_node_reload_and_the_next_write_repairs_it()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var log = new ListLoggerFactory();
        await using var a = new PostgresActivationStore(db, log);
        await a.InitializeAsync(Ct);
        await using var b = await OpenAsync(db);
        foreach (var cmid in Cmids(5))
        {
            await a.ApplyOneAsync(cmid);
        }

        Assert.Equal(6, await b.ApplyOneAsync(Guid.NewGuid()));
        Assert.Equal(7, await a.ApplyOneAsync(Guid.NewGuid()));
        Assert.Equal((1, 1, 0), (a.FullReloads, a.IncrementalRefreshes, a.RefreshFallbacks));

        // Another node wrote: the stale copy caught up with the entries since does not match a corrupted row.
        Assert.Equal(8, await b.ApplyOneAsync(Guid.NewGuid()));
        await ExecuteAsync(db, "UPDATE ledger_group SET fingerprint = fingerprint # 1 WHERE group_id = 0");
        Assert.Equal(9, await a.ApplyOneAsync(Guid.NewGuid()));
        Assert.Equal((2, 1, 1), (a.FullReloads, a.IncrementalRefreshes, a.RefreshFallbacks));
        Assert.Contains("LedgerRefreshMismatch", log.Events);
        Assert.True(await ScalarAsync<bool>(db, RecomputeSql));

        // No other node wrote, but the row no longer matches this node's copy: the copy is not used.
        await ExecuteAsync(db, "UPDATE ledger_group SET entry_count = entry_count + 1 WHERE group_id = 0");
        Assert.Equal(10, await a.ApplyOneAsync(Guid.NewGuid()));
        Assert.Equal((3, 1, 2), (a.FullReloads, a.IncrementalRefreshes, a.RefreshFallbacks));
        Assert.True(await ScalarAsync<bool>(db, RecomputeSql));
    }

    [Fact]
    public async Task Migration_2_fingerprints_the_entries_already_stored()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var v1 = PostgresMigrations.All[0];
        var cmids = Cmids(7);
        await using (var connection = new NpgsqlConnection(db))
        {
            await connection.OpenAsync(Ct);
#pragma warning disable CA2100 // The embedded migration script.
            await using (var script = new NpgsqlCommand(
                "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, sha256 text NOT NULL, applied timestamptz NOT NULL DEFAULT now());\n" + v1.Sql,
                connection))
#pragma warning restore CA2100
            {
                await script.ExecuteNonQueryAsync(Ct);
            }

            await using var batch = new NpgsqlBatch(connection)
            {
                BatchCommands =
                {
                    new("INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)")
                    {
                        Parameters = { new() { Value = v1.Version }, new() { Value = v1.Name }, new() { Value = v1.Sha256 } },
                    },
                    new("INSERT INTO ledger_entry (group_id, cmid, last_seen, seq) SELECT 0, c, $2, o FROM unnest($1::uuid[]) WITH ORDINALITY AS u (c, o)")
                    {
                        Parameters = { new() { Value = cmids }, new() { Value = T0 } },
                    },
                    new("UPDATE ledger_group SET capacity = 50, version = 7, last_seq = 7 WHERE group_id = 0"),
                },
            };
            await batch.ExecuteNonQueryAsync(Ct);
        }

        await using var store = await OpenAsync(db);
        Assert.Equal(PostgresMigrations.LatestVersion, store.SchemaVersion);
        Assert.Equal(7, await ScalarAsync<int>(db, "SELECT entry_count FROM ledger_group WHERE group_id = 0"));
        Assert.Equal(
            cmids.Aggregate(0L, (f, c) => f ^ PostgresActivationStore.CmidHash(c)),
            await ScalarAsync<long>(db, "SELECT fingerprint FROM ledger_group WHERE group_id = 0"));
        Assert.Equal(0L, await ScalarAsync<long>(db, "SELECT fingerprint FROM ledger_group WHERE group_id = 1"));
        Assert.Equal(8, await store.ApplyOneAsync(Guid.NewGuid()));
        Assert.True(await ScalarAsync<bool>(db, RecomputeSql));
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(Ct);
#pragma warning disable CA2100 // Test SQL literals.
        await using var command = new NpgsqlCommand(sql, connection);
#pragma warning restore CA2100
        await command.ExecuteNonQueryAsync(Ct);
    }
}
