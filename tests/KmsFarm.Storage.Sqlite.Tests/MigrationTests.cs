using Microsoft.Data.Sqlite;

namespace KmsFarm.Storage.Sqlite.Tests;

public sealed class MigrationTests : StoreTestBase
{
    [Fact]
    public void Embedded_scripts_run_from_1_without_gaps()
    {
        var versions = SqliteMigrator.Migrations.Select(m => m.Version).ToArray();
        Assert.Equal(Enumerable.Range(1, versions.Length), versions);
        Assert.Equal(versions[^1], SqliteActivationStore.LatestSchemaVersion);
        Assert.Equal("0001_initial", SqliteMigrator.Migrations[0].Name);
        Assert.Equal("0002_node", SqliteMigrator.Migrations[1].Name);
    }

    [Fact]
    public async Task Initialize_creates_the_schema_in_wal_mode()
    {
        await OpenAsync();

        using var raw = OpenRaw();
        var tables = new List<string>();
        using (var command = raw.CreateCommand())
        {
            command.CommandText = "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                tables.Add(reader.GetString(0));
            }
        }

        Assert.Superset(
            new HashSet<string> { "schema_migrations", "farm_identity", "farm_csvlk", "ledger", "ledger_entry", "client", "activation_history" },
            tables.ToHashSet());
        Assert.DoesNotContain("node", tables); // retired in version 3: membership comes from Orleans
        using (var columns = raw.CreateCommand())
        {
            columns.CommandText = "SELECT count(*) FROM pragma_table_info('ledger') WHERE name = 'version'";
            Assert.Equal(1L, (long)columns.ExecuteScalar()!);
        }

        Assert.Equal(SqliteActivationStore.LatestSchemaVersion, Scalar(raw, "SELECT max(version) FROM schema_migrations"));
        Assert.Equal(SqliteActivationStore.LatestSchemaVersion, Scalar(raw, "SELECT count(*) FROM schema_migrations"));
        using var mode = raw.CreateCommand();
        mode.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", (string?)mode.ExecuteScalar());
    }

    [Fact]
    public async Task Reopening_applies_nothing_twice()
    {
        var store = await OpenAsync();
        await store.InitializeAsync(Ct);
        await store.DisposeAsync();
        string appliedAt;
        using (var raw = OpenRaw())
        {
            using var command = raw.CreateCommand();
            command.CommandText = "SELECT group_concat(version || '@' || applied_at) FROM schema_migrations";
            appliedAt = (string)command.ExecuteScalar()!;
        }

        await using var reopened = await OpenAsync();
        Assert.True(await reopened.IsReadyAsync(Ct));
        using var again = OpenRaw();
        using var check = again.CreateCommand();
        check.CommandText = "SELECT group_concat(version || '@' || applied_at) FROM schema_migrations";
        Assert.Equal(appliedAt, (string)check.ExecuteScalar()!);
    }

    [Fact]
    public async Task A_newer_schema_is_refused_and_left_untouched()
    {
        var store = await OpenAsync();
        await store.DisposeAsync();
        int newer = SqliteActivationStore.LatestSchemaVersion + 1;
        using (var raw = OpenRaw())
        {
            Execute(raw, $"INSERT INTO schema_migrations (version, applied_at) VALUES ({newer}, 'later')");
        }

        var reopened = Create();
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => reopened.InitializeAsync(Ct).AsTask());
        Assert.Contains($"schema version {newer}", error.Message, StringComparison.Ordinal);
        Assert.Contains(DatabasePath, error.Message, StringComparison.Ordinal);
        Assert.Contains("Store:Sqlite:Path", error.Message, StringComparison.Ordinal);
        Assert.False(await reopened.IsReadyAsync(Ct));

        using var after = OpenRaw();
        Assert.Equal(newer, Scalar(after, "SELECT max(version) FROM schema_migrations"));
    }

    [Fact]
    public async Task Dispose_closes_the_file_and_checkpoints_the_wal()
    {
        var store = await OpenAsync();
        await ApplyOneAsync(store, Cmid(1), T0);
        Assert.NotEmpty(await store.GetHistoryAsync(10, Ct)); // a pooled reader was used
        Assert.True(File.Exists(DatabasePath + "-wal"));

        await store.DisposeAsync();

        // The last connection to close removes the WAL: nothing is left open.
        Assert.False(File.Exists(DatabasePath + "-wal"));
        File.Move(DatabasePath, DatabasePath + ".moved");
        Assert.False(await store.IsReadyAsync(Ct));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => store.GetHistoryAsync(1, Ct).AsTask());
    }

    [Fact]
    public async Task The_directory_is_created_when_missing()
    {
        var path = Path.Combine(Directory, "nested", "deeper", "farm.db");
        var store = await OpenAsync(path);
        Assert.True(await store.IsReadyAsync(Ct));
        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task An_unopenable_path_is_not_ready_rather_than_a_crash()
    {
        var store = Create(Directory); // a directory, not a file
        Assert.False(await store.IsReadyAsync(Ct));
        await Assert.ThrowsAsync<SqliteException>(() => store.InitializeAsync(Ct).AsTask());
    }

    [Fact]
    public void Bad_options_name_the_setting()
    {
        var error = Assert.Throws<ArgumentException>(
            () => new SqliteActivationStore(new SqliteStoreOptions { Path = " " }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
        Assert.Contains("Store:Sqlite:Path", error.Message, StringComparison.Ordinal);
        var timeout = Assert.Throws<ArgumentOutOfRangeException>(
            () => new SqliteActivationStore(
                new SqliteStoreOptions { BusyTimeout = TimeSpan.FromSeconds(-1) }, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance));
        Assert.Contains("Store:Sqlite:BusyTimeout", timeout.Message, StringComparison.Ordinal);
    }
}
