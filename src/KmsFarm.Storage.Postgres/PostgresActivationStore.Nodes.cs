using KmsFarm.Activation;
using Npgsql;

namespace KmsFarm.Storage.Postgres;

public sealed partial class PostgresActivationStore
{
    private const string RegisterNodeSql = """
        INSERT INTO node (name, endpoints, version, started, last_heartbeat) VALUES ($1, $2, $3, $4, now())
        ON CONFLICT (name) DO UPDATE SET endpoints = excluded.endpoints, version = excluded.version,
                                         started = excluded.started, last_heartbeat = excluded.last_heartbeat
        """;

    private const string ListNodesSql = """
        SELECT name, endpoints, version, started, last_heartbeat, last_heartbeat < now() - $1 AS gone FROM node ORDER BY name
        """;

    public async ValueTask RegisterAsync(NodeRegistration registration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(registration);
        ArgumentException.ThrowIfNullOrWhiteSpace(registration.Name);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(RegisterNodeSql, connection)
        {
            Parameters =
            {
                new() { Value = registration.Name },
                new() { Value = registration.Endpoints.ToArray() },
                new() { Value = registration.Version },
                new() { Value = TruncateToMicroseconds(registration.Started) },
            },
        };
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask<bool> HeartbeatAsync(string name, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand("UPDATE node SET last_heartbeat = now() WHERE name = $1", connection)
        {
            Parameters = { new() { Value = name } },
        };
        return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) > 0;
    }

    public async ValueTask<IReadOnlyList<NodeStatus>> ListAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand(ListNodesSql, connection) { Parameters = { new() { Value = _options.NodeGoneAfter } } };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        var nodes = new List<NodeStatus>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            nodes.Add(new NodeStatus(
                reader.GetString(0),
                reader.GetFieldValue<string[]>(1),
                reader.GetString(2),
                reader.GetFieldValue<DateTimeOffset>(3),
                reader.GetFieldValue<DateTimeOffset>(4),
                reader.GetBoolean(5)));
        }

        return nodes;
    }
}
