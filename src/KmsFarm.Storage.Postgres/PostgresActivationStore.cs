using KmsFarm.Activation;
using KmsFarm.Protocol.Kms;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace KmsFarm.Storage.Postgres;

/// <summary>The farm store: every node of a farm points at one PostgreSQL database, which holds the farm identity, one
/// CMID cache per product group, the client inventory, the activation history and (in tables of the Orleans clustering
/// provider) the farm's membership. Each group's cache is held in memory by its single writer, the product-group grain,
/// and every commit is fenced by the group's version (<see cref="CommitLedgerAsync"/>).</summary>
public sealed partial class PostgresActivationStore : IActivationStore, IHistoryRetention
{
    /// <summary>pg_advisory_xact_lock key for creating the farm identity ("KMSF" + 2).</summary>
    private const long IdentityLockKey = 0x4B4D_5346_0000_0002;

    private readonly PostgresStoreOptions _options;
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;

    // While the database is down every write and every readiness probe fails: one line per half minute each.
    private readonly LogRateLimiter _failureLog = new();
    private readonly LogRateLimiter _notReadyLog = new();

    public PostgresActivationStore(PostgresStoreOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger<PostgresActivationStore>();
        var builder = new NpgsqlDataSourceBuilder(PostgresConnectionString.WithStoreDefaults(options.ConnectionString));
        builder.UseLoggerFactory(loggerFactory);
        _dataSource = builder.Build();
    }

    /// <summary>A store over <paramref name="connectionString"/> with default settings.</summary>
    public PostgresActivationStore(string connectionString, ILoggerFactory? loggerFactory = null)
        : this(new PostgresStoreOptions { ConnectionString = connectionString }, loggerFactory)
    {
    }

    /// <summary>The schema version of the database after <see cref="InitializeAsync"/>.</summary>
    public int SchemaVersion { get; private set; }

    public async ValueTask InitializeAsync(CancellationToken cancellationToken)
    {
        SchemaVersion = await PostgresMigrations.ApplyAsync(_dataSource, _logger, cancellationToken).ConfigureAwait(false);
        var csb = new NpgsqlConnectionStringBuilder(_dataSource.ConnectionString);
        PostgresStoreLog.StoreOpened(_logger, csb.Database, csb.Host, SchemaVersion);
    }

    public async ValueTask<FarmIdentity> GetOrCreateIdentityAsync(Func<FarmIdentity> create, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(create);
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        var stored = await ReadIdentityAsync(connection, null, cancellationToken).ConfigureAwait(false);
        if (stored is not null)
        {
            return stored;
        }

        // None yet: the first node to take the lock creates it; the others wait, then read what it stored.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1)", connection, transaction))
        {
            lockCommand.Parameters.Add(new() { Value = IdentityLockKey });
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        stored = await ReadIdentityAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
        if (stored is not null)
        {
            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return stored;
        }

        var identity = create() ?? throw new InvalidOperationException("The identity factory returned null.");
        identity = identity with { Created = TruncateToMicroseconds(identity.Created) };
        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            batch.BatchCommands.Add(Command(
                "INSERT INTO farm_identity (id, host_build, lcid, created) VALUES (1, $1, $2, $3)",
                identity.HostBuild, identity.Lcid, identity.Created));
            batch.BatchCommands.Add(Command("""
                INSERT INTO farm_csvlk (csvlk_id, position, epid, hwid)
                SELECT * FROM unnest($1::text[], $2::integer[], $3::text[], $4::bigint[])
                """,
                identity.Csvlks.Select(c => c.CsvlkId).ToArray(),
                Enumerable.Range(0, identity.Csvlks.Count).ToArray(),
                identity.Csvlks.Select(c => c.Epid).ToArray(),
                identity.Csvlks.Select(c => unchecked((long)c.HwId.Value)).ToArray()));
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        PostgresStoreLog.IdentityCreated(_logger, identity.Csvlks.Count);
        return identity;
    }

    public async ValueTask<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        // Two tries: after a database restart the first may pick a pooled connection the server has closed; the pool is
        // cleared on failure, so the second opens a fresh one.
        for (int attempt = 0; ; attempt++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.ReadyTimeout);
            try
            {
                await using var connection = await _dataSource.OpenConnectionAsync(timeout.Token).ConfigureAwait(false);
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                await command.ExecuteScalarAsync(timeout.Token).ConfigureAwait(false);
                return true;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                _dataSource.Clear();
                if (attempt > 0)
                {
                    if (_notReadyLog.TryAcquire(out long suppressed))
                    {
                        PostgresStoreLog.NotReady(_logger, ex, suppressed);
                    }
                    return false;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync().ConfigureAwait(false);
    }

    private static async Task<FarmIdentity?> ReadIdentityAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new("SELECT host_build, lcid, created FROM farm_identity WHERE id = 1"),
                new("SELECT csvlk_id, epid, hwid FROM farm_csvlk ORDER BY position"),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            return null;
        }

        int hostBuild = reader.GetInt32(0);
        int lcid = reader.GetInt32(1);
        var created = reader.GetFieldValue<DateTimeOffset>(2);
        await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
        var csvlks = new List<CsvlkIdentity>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            csvlks.Add(new CsvlkIdentity(reader.GetString(0), reader.GetString(1), new HardwareId(unchecked((ulong)reader.GetInt64(2)))));
        }

        return new FarmIdentity(hostBuild, lcid, created, csvlks);
    }

    /// <summary>timestamptz keeps microseconds: what is stored equals what is read back.</summary>
    private static DateTimeOffset TruncateToMicroseconds(DateTimeOffset time) => ProductGroupWriter.TruncateToMicroseconds(time);

    private static NpgsqlBatchCommand Command(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }
}
