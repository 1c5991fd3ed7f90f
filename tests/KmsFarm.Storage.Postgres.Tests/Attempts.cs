using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using Npgsql;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>Builders for store tests.</summary>
internal static class Attempts
{
    public static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public static readonly Guid WindowsApp = Guid.Parse("55c92734-d682-4d71-983e-d6ec3f16059f");

    public static ActivationAttempt For(Guid cmid, int nPolicy = 25, ProductGroup group = ProductGroup.Windows, string node = "node-a",
        string? machine = null, DateTimeOffset? time = null) =>
        new(cmid, nPolicy, new ActivationRecord
        {
            Time = time ?? T0,
            Node = node,
            ClientAddress = "127.0.0.1:50000",
            ProtocolVersion = 6,
            Group = group,
            ApplicationId = WindowsApp,
            SkuId = Guid.Parse("2de67392-b7a7-462a-b1ca-108dd189f588"),
            KmsCountedId = Guid.Parse("8449b1fb-f0ea-497a-99ab-66ca96e9a0f5"),
            ClientMachineId = cmid,
            MachineName = machine ?? "pc-" + cmid.ToString("N")[..8],
            LicenseStatus = 2,
            IsClientVm = false,
            RequiredClientCount = nPolicy,
            Result = 0,
        });

    public static Guid[] Cmids(int count) => Enumerable.Range(0, count).Select(_ => Guid.NewGuid()).ToArray();

    public static async Task<PostgresActivationStore> OpenAsync(string connectionString)
    {
        var store = new PostgresActivationStore(connectionString);
        await store.InitializeAsync(TestContext.Current.CancellationToken);
        return store;
    }

    public static async Task<int> ApplyOneAsync(this PostgresActivationStore store, Guid cmid, int nPolicy = 25,
        ProductGroup group = ProductGroup.Windows, DateTimeOffset? now = null, string? machine = null)
    {
        var outcomes = await store.ApplyAsync(group, [For(cmid, nPolicy, group, machine: machine, time: now)], now ?? T0,
            TestContext.Current.CancellationToken);
        return outcomes.Single().CurrentCount;
    }

    public static async Task<T> ScalarAsync<T>(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
#pragma warning disable CA2100 // Test SQL literals.
        await using var command = new NpgsqlCommand(sql, connection);
#pragma warning restore CA2100
        return (T)(await command.ExecuteScalarAsync(TestContext.Current.CancellationToken))!;
    }

    /// <summary>(machine name, group, reported count) of every history row, oldest first: the farm's serialized order.</summary>
    public static async Task<List<(string Machine, Guid Cmid, int? Count, int RequiredClientCount)>> HistoryInOrderAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT machine_name, cmid, current_count, required_client_count FROM activation_history WHERE result = 0 ORDER BY id", connection);
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        var rows = new List<(string, Guid, int?, int)>();
        while (await reader.ReadAsync(TestContext.Current.CancellationToken))
        {
            rows.Add((reader.GetString(0), reader.GetGuid(1), reader.IsDBNull(2) ? null : reader.GetInt32(2), reader.GetInt32(3)));
        }

        return rows;
    }

    /// <summary>Replays the history through one in-memory ledger (one genuine host) and returns the counts it reports.</summary>
    public static int[] Replay(IEnumerable<(string Machine, Guid Cmid, int? Count, int RequiredClientCount)> history, DateTimeOffset now)
    {
        var host = new ProductGroupLedger(ProductGroup.Windows);
        return history.Select(h => host.Apply(h.Cmid, h.RequiredClientCount, now).CurrentCount).ToArray();
    }

    /// <summary>The test's own reads use a fresh connection each time: the nodes under test share Npgsql's global pool for
    /// this connection string (the Orleans membership provider opens connections through it), and a database restart
    /// leaves that pool holding closed ones.</summary>
    public static string Unpooled(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString;
}
