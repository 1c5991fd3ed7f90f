using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

namespace KmsFarm.Storage.Sqlite.Tests;

/// <summary>A temporary directory per test holding one database file; every store opened through <see cref="OpenAsync"/>
/// is disposed and the directory deleted after the test.</summary>
public abstract class StoreTestBase : IAsyncDisposable
{
    private readonly List<SqliteActivationStore> _stores = [];

    protected StoreTestBase()
    {
        Directory = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "kmsfarm-sqlite-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        DatabasePath = System.IO.Path.Combine(Directory, "store.db");
    }

    protected static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    protected static CancellationToken Ct => TestContext.Current.CancellationToken;

    protected string Directory { get; }

    protected string DatabasePath { get; }

    protected SqliteActivationStore Create(string? path = null) =>
        Track(new SqliteActivationStore(new SqliteStoreOptions { Path = path ?? DatabasePath }, NullLogger.Instance));

    /// <summary>Disposes <paramref name="store"/> after the test.</summary>
    protected SqliteActivationStore Track(SqliteActivationStore store)
    {
        _stores.Add(store);
        return store;
    }

    protected async Task<SqliteActivationStore> OpenAsync(string? path = null)
    {
        var store = Create(path);
        await store.InitializeAsync(Ct);
        return store;
    }

    /// <summary>A plain connection to the file, outside the store (for inspecting or tampering).</summary>
    protected SqliteConnection OpenRaw(string? path = null)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path ?? DatabasePath, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    protected static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar());
    }

    protected static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    protected static Guid Cmid(int i) => new(i, 0x4b4d, 0x5346, 0x61, 0x72, 0x6d, 0x00, 0x00, 0x00, 0x00, 0x01);

    protected static Guid ApplicationId(ProductGroup group) => group switch
    {
        ProductGroup.Windows => Guid.Parse("55c92734-d682-4d71-983e-d6ec3f16059f"),
        ProductGroup.Office2010 => Guid.Parse("59a52881-a989-479d-af46-f275c6370663"),
        _ => Guid.Parse("0ff1ce15-a989-479d-af46-f275c6370663"),
    };

    protected static ActivationRecord Record(
        Guid cmid, ProductGroup? group, int requiredClientCount, DateTimeOffset time, uint result = 0, string machine = "ws-01") => new()
    {
        Time = time,
        Node = "node-a",
        ClientAddress = "127.0.0.1:50000",
        ProtocolVersion = 6,
        Group = group,
        ApplicationId = ApplicationId(group ?? ProductGroup.Windows),
        SkuId = Guid.Parse("ae2ee509-1b34-41c0-acb7-6d4650168915"),
        KmsCountedId = Guid.Parse("8449b1fb-f0ea-497a-99ab-66ca96e9a0f5"),
        ClientMachineId = cmid,
        MachineName = machine,
        LicenseStatus = 2,
        IsClientVm = true,
        RequiredClientCount = requiredClientCount,
        Result = result,
        Epid = result == 0 ? "06401-00206-551-123456-03-1033-26100.0000-0602026" : null,
    };

    protected static ActivationAttempt Attempt(
        Guid cmid, DateTimeOffset time, ProductGroup group = ProductGroup.Windows, int requiredClientCount = 25, string machine = "ws-01") =>
        new(cmid, requiredClientCount, Record(cmid, group, requiredClientCount, time, machine: machine));

    /// <summary>Applies one attempt alone and returns its outcome.</summary>
    protected static async Task<LedgerOutcome> ApplyOneAsync(
        IActivationStore store, Guid cmid, DateTimeOffset now, ProductGroup group = ProductGroup.Windows, int requiredClientCount = 25)
    {
        var outcomes = await store.ApplyAsync(group, [Attempt(cmid, now, group, requiredClientCount)], now, Ct);
        return Assert.Single(outcomes);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var store in _stores)
        {
            await store.DisposeAsync();
        }

        System.IO.Directory.Delete(Directory, recursive: true);
        GC.SuppressFinalize(this);
    }
}
