using KmsFarm.Activation;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;
using static KmsFarm.Storage.Postgres.Tests.Attempts;

namespace KmsFarm.Storage.Postgres.Tests;

[Trait("Category", "Integration")]
public sealed class SchemaAndIdentityTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Migrations_are_idempotent()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using (var first = await OpenAsync(db))
        {
            await first.ApplyOneAsync(Guid.NewGuid());
        }

        await using var again = await OpenAsync(db);
        await again.InitializeAsync(Ct);
        Assert.Equal(PostgresMigrations.LatestVersion, again.SchemaVersion);
        Assert.Equal((long)PostgresMigrations.LatestVersion, await ScalarAsync<long>(db, "SELECT count(*) FROM schema_migrations"));
        Assert.Equal(2, await again.ApplyOneAsync(Guid.NewGuid()));
    }

    [Fact]
    public async Task Three_nodes_initializing_together_apply_each_migration_once()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var stores = Enumerable.Range(0, 3).Select(_ => new PostgresActivationStore(db)).ToArray();
        try
        {
            await Task.WhenAll(stores.Select(s => s.InitializeAsync(Ct).AsTask()));
            Assert.All(stores, s => Assert.Equal(PostgresMigrations.LatestVersion, s.SchemaVersion));
            Assert.Equal((long)PostgresMigrations.LatestVersion, await ScalarAsync<long>(db, "SELECT count(*) FROM schema_migrations"));
            Assert.Equal(3L, await ScalarAsync<long>(db, "SELECT count(*) FROM ledger_group"));
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task The_first_identity_wins_and_every_node_gets_it()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var stores = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => OpenAsync(db)));
        try
        {
            int factoryCalls = 0;
            var identities = await Task.WhenAll(stores.Select((s, i) => s.GetOrCreateIdentityAsync(() =>
            {
                Interlocked.Increment(ref factoryCalls);
                return Identity(i);
            }, Ct).AsTask()));

            Assert.Equal(1, factoryCalls);
            Assert.All(identities, id => Assert.Equivalent(identities[0], id, strict: true));

            // Later callers (and restarts) read the stored one; their factory is never called.
            await using var late = await OpenAsync(db);
            var stored = await late.GetOrCreateIdentityAsync(() => throw new InvalidOperationException("must not create"), Ct);
            Assert.Equivalent(identities[0], stored, strict: true);
            Assert.Equal(3, stored.Csvlks.Count);
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Identity_round_trips_every_field()
    {
        await using var store = await OpenAsync(await postgres.CreateDatabaseAsync(Ct));
        var created = Identity(7);
        var first = await store.GetOrCreateIdentityAsync(() => created, Ct);
        var read = await store.GetOrCreateIdentityAsync(() => Identity(8), Ct);
        Assert.Equal(created.Csvlks, read.Csvlks);
        Assert.Equal((created.HostBuild, created.Lcid), (read.HostBuild, read.Lcid));
        Assert.Equal(first.Created, read.Created);
        Assert.Equal(HardwareId.Parse("3A1C049600B60076"), read.Csvlks[0].HwId);
        Assert.Equal(ulong.MaxValue - 7, read.Csvlks[2].HwId.Value);
    }

    [Fact]
    public async Task The_schema_has_the_version_fence_and_no_node_registry()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using var store = await OpenAsync(db);
        Assert.Equal(1, await ScalarAsync<int>(db, "SELECT count(*)::int FROM pg_proc WHERE proname = 'ledger_advance'"));
        Assert.Equal(0, await ScalarAsync<int>(db, "SELECT count(*)::int FROM pg_tables WHERE tablename = 'node'"));
        Assert.Equal(
            "capacity,group_id,version",
            await ScalarAsync<string>(db, "SELECT string_agg(column_name, ',' ORDER BY column_name) FROM information_schema.columns WHERE table_name = 'ledger_group'"));

        // The fence itself: a commit naming a version the group is not at raises KF001 and changes nothing.
        var ex = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => ScalarAsync<long>(db, "SELECT ledger_advance(0::smallint, 5, 50)"));
        Assert.Equal(PostgresActivationStore.VersionConflictSqlState, ex.SqlState);
        Assert.Equal(1L, await ScalarAsync<long>(db, "SELECT ledger_advance(0::smallint, 0, 50)"));
        Assert.Equal(50, await ScalarAsync<int>(db, "SELECT capacity FROM ledger_group WHERE group_id = 0"));
    }

    [Fact]
    public void A_missing_connection_string_names_the_setting()
    {
        var ex = Assert.Throws<ArgumentException>(() => new PostgresActivationStore(new PostgresStoreOptions()));
        Assert.Contains("Store:Postgres:ConnectionString", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgresql://{0}@{1}:{2}/{3}")]
    [InlineData("postgres://{0}:@{1}:{2}/{3}?Timeout=5&sslmode=disable")]
    [InlineData("//{0}@{1}:{2}/{3}")]
    public async Task A_URL_connection_string_is_accepted(string format)
    {
        var csb = new Npgsql.NpgsqlConnectionStringBuilder(await postgres.CreateDatabaseAsync(Ct));
        string url = string.Format(System.Globalization.CultureInfo.InvariantCulture, format, csb.Username, csb.Host, csb.Port, csb.Database);
        await using var store = await OpenAsync(url);
        Assert.Equal(1, await store.ApplyOneAsync(Guid.NewGuid()));
        Assert.True(await store.IsReadyAsync(Ct));
    }

    [Theory]
    [InlineData("postgresql://")]
    [InlineData("postgresql://user@host/db?NoSuchKeyword=1")]
    [InlineData("Host=x;NoSuchKey=1")]
    [InlineData("Host=x;Port=notanumber")]
    public void A_malformed_connection_string_names_the_setting(string connectionString)
    {
        var ex = Assert.Throws<ArgumentException>(() => new PostgresActivationStore(connectionString));
        Assert.Contains("Store:Postgres:ConnectionString", ex.Message, StringComparison.Ordinal);
    }

    private static FarmIdentity Identity(int seed) => new(
        17763 + seed, 1033, T0.AddTicks(1234567 + seed),
        [
            new CsvlkIdentity("windows-2019", $"06401-00206-{seed:000}-123456-03-1033-17763.0000-0452026", HardwareId.Parse("3A1C049600B60076")),
            new CsvlkIdentity("office-2016", $"06401-00096-{seed:000}-654321-03-1033-17763.0000-0452026", new HardwareId((ulong)seed)),
            new CsvlkIdentity("office-2010", $"06401-00096-{seed:000}-111111-03-1033-17763.0000-0452026", new HardwareId(ulong.MaxValue - (ulong)seed)),
        ]);
}
