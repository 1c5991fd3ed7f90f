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
    public async Task Nodes_register_heartbeat_and_are_listed_with_gone_ones_marked()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using var store = new PostgresActivationStore(new PostgresStoreOptions { ConnectionString = db, NodeGoneAfter = TimeSpan.FromMinutes(1) });
        await store.InitializeAsync(Ct);
        var started = new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero);
        await store.RegisterAsync(new NodeRegistration("node-b", ["tcp://127.0.0.1:1688", "http://127.0.0.1:8080"], "1.2.3", started), Ct);
        await store.RegisterAsync(new NodeRegistration("node-a", ["tcp://127.0.0.1:1689"], "1.2.3", started), Ct);
        Assert.True(await store.HeartbeatAsync("node-a", Ct));
        Assert.False(await store.HeartbeatAsync("node-z", Ct));
        await ScalarAsync<int>(db, "UPDATE node SET last_heartbeat = now() - interval '5 minutes' WHERE name = 'node-b' RETURNING 1");

        var nodes = await store.ListAsync(Ct);
        Assert.Equal(["node-a", "node-b"], nodes.Select(n => n.Name));
        Assert.False(nodes[0].IsGone);
        Assert.True(nodes[1].IsGone);
        Assert.Equal(["tcp://127.0.0.1:1688", "http://127.0.0.1:8080"], nodes[1].Endpoints);
        Assert.Equal(("1.2.3", started), (nodes[1].Version, nodes[1].Started));

        // A restarted node registers again and is alive.
        await store.RegisterAsync(new NodeRegistration("node-b", ["tcp://127.0.0.1:1688"], "1.2.4", started.AddHours(1)), Ct);
        var b = (await store.ListAsync(Ct)).Single(n => n.Name == "node-b");
        Assert.Equal(("1.2.4", false), (b.Version, b.IsGone));
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
