using System.Diagnostics;
using Npgsql;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>One silo's row in orleans_membership (migration 0003), as the operators see it.</summary>
internal sealed record SiloRow(string Name, string Address, int Port, int Generation, SiloStatus Status, int ProxyPort, DateTime IAmAliveTime);

/// <summary>Reads the membership table of one cluster straight from the database, and waits for it to show something.</summary>
internal static class MembershipRows
{
    public static async Task<List<SiloRow>> ReadAsync(string connectionString, string clusterId, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(
            "SELECT silo_name, address, port, generation, status, proxy_port, i_am_alive_time FROM orleans_membership " +
            "WHERE cluster_id = $1 ORDER BY start_time, silo_name", connection)
        {
            Parameters = { new() { Value = clusterId } },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<SiloRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(new SiloRow(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetInt32(3), (SiloStatus)reader.GetInt32(4),
                reader.GetInt32(5), reader.GetDateTime(6)));
        }

        return rows;
    }

    /// <summary>Polls every 50 ms until <paramref name="condition"/> holds; returns the rows that satisfied it.</summary>
    public static async Task<List<SiloRow>> WaitForAsync(string connectionString, string clusterId, Func<List<SiloRow>, bool> condition,
        TimeSpan within, Func<string> context, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var rows = await ReadAsync(connectionString, clusterId, cancellationToken);
            if (condition(rows))
            {
                return rows;
            }

            Assert.True(clock.Elapsed < within,
                $"The membership table did not get there within {within}. Rows: {string.Join("; ", rows)}\n{context()}");
            await Task.Delay(50, cancellationToken);
        }
    }

    public static SiloRow Row(this List<SiloRow> rows, string name) => rows.Single(r => r.Name == name);
}
