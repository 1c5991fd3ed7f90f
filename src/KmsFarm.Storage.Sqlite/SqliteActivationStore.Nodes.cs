using System.Text.Json;
using KmsFarm.Activation;
using Microsoft.Data.Sqlite;

namespace KmsFarm.Storage.Sqlite;

/// <summary>The node registry of a single node: the same contract as the farm store's, so the status API reads one
/// registry whatever the store. With one node owning the file it lists that node; a stale row (the node was renamed, or
/// stopped and not restarted) shows as gone once its heartbeat is older than <see cref="SqliteStoreOptions.NodeGoneAfter"/>.</summary>
public sealed partial class SqliteActivationStore
{
    public async ValueTask RegisterAsync(NodeRegistration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentException.ThrowIfNullOrWhiteSpace(registration.Name);
        ArgumentNullException.ThrowIfNull(registration.Endpoints);
        ArgumentNullException.ThrowIfNull(registration.Version);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var command = _writer!.CreateCommand();
            command.CommandText =
                """
                INSERT INTO node (name, endpoints, version, started_utc_ticks, last_heartbeat_utc_ticks)
                VALUES ($name, $endpoints, $version, $started, $now)
                ON CONFLICT (name) DO UPDATE SET endpoints = excluded.endpoints, version = excluded.version,
                    started_utc_ticks = excluded.started_utc_ticks, last_heartbeat_utc_ticks = excluded.last_heartbeat_utc_ticks
                """;
            command.Parameters.AddWithValue("$name", registration.Name);
            command.Parameters.AddWithValue("$endpoints", JsonSerializer.Serialize(registration.Endpoints.ToArray(), NodeJson.Default.StringArray));
            command.Parameters.AddWithValue("$version", registration.Version);
            command.Parameters.AddWithValue("$started", SqliteValues.ToTicks(registration.Started));
            command.Parameters.AddWithValue("$now", SqliteValues.ToTicks(_timeProvider.GetUtcNow()));
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async ValueTask<bool> HeartbeatAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            using var command = _writer!.CreateCommand();
            command.CommandText = "UPDATE node SET last_heartbeat_utc_ticks = $now WHERE name = $name";
            command.Parameters.AddWithValue("$now", SqliteValues.ToTicks(_timeProvider.GetUtcNow()));
            command.Parameters.AddWithValue("$name", name);
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public async ValueTask<IReadOnlyList<NodeStatus>> ListAsync(CancellationToken cancellationToken)
    {
        await EnsureOpenAsync(cancellationToken).ConfigureAwait(false);
        long goneBefore = SqliteValues.ToTicks(_timeProvider.GetUtcNow() - _nodeGoneAfter);
        await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
        using var command = connection.CreateCommand();
        command.CommandText =
            "SELECT name, endpoints, version, started_utc_ticks, last_heartbeat_utc_ticks FROM node ORDER BY name COLLATE BINARY";
        var nodes = new List<NodeStatus>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var lastHeartbeat = reader.GetTicks(4);
            nodes.Add(new NodeStatus(
                reader.GetString(0),
                ReadEndpoints(reader),
                reader.GetString(2),
                reader.GetTicks(3),
                lastHeartbeat,
                lastHeartbeat.UtcTicks < goneBefore));
        }

        return nodes;
    }

    /// <summary>The stored JSON array; a row edited by hand into something else reads as no endpoints rather than failing
    /// the whole list.</summary>
    private static string[] ReadEndpoints(SqliteDataReader reader)
    {
        try
        {
            return JsonSerializer.Deserialize(reader.GetString(1), NodeJson.Default.StringArray) ?? [];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
