using System.Globalization;
using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Kms;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace KmsFarm.Storage.Postgres;

/// <summary>The farm store: every node of a farm points at one PostgreSQL database, which holds the farm identity, one
/// CMID cache per product group, the client inventory, the activation history and the node registry. A node keeps no
/// state another node needs: its only memory is a copy of a group's cache, used only after the group's row lock shows
/// nobody else has written since (see <see cref="ApplyAsync"/>).</summary>
public sealed partial class PostgresActivationStore : IActivationStore, INodeRegistry
{
    /// <summary>pg_advisory_xact_lock key for creating the farm identity ("KMSF" + 2).</summary>
    private const long IdentityLockKey = 0x4B4D_5346_0000_0002;

    private readonly PostgresStoreOptions _options;
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly GroupSlot[] _groups;
    private readonly string _lockTimeoutSetting;
    private long _fullReloads;
    private long _incrementalRefreshes;
    private long _refreshFallbacks;

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
        _groups = Enum.GetValues<ProductGroup>().Select(_ => new GroupSlot()).ToArray();
        _lockTimeoutSetting = ((long)Math.Ceiling(options.LockTimeout.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";
    }

    /// <summary>A store over <paramref name="connectionString"/> with default settings.</summary>
    public PostgresActivationStore(string connectionString, ILoggerFactory? loggerFactory = null)
        : this(new PostgresStoreOptions { ConnectionString = connectionString }, loggerFactory)
    {
    }

    /// <summary>How many times a batch read a group's whole cache (no copy, or the fallback below).</summary>
    internal long FullReloads => Interlocked.Read(ref _fullReloads);

    /// <summary>How many times a stale copy was brought up to date from only the entries written since it.</summary>
    internal long IncrementalRefreshes => Interlocked.Read(ref _incrementalRefreshes);

    /// <summary>How many times a copy, brought up to date or not, did not match the row's count and fingerprint.</summary>
    internal long RefreshFallbacks => Interlocked.Read(ref _refreshFallbacks);

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
                    PostgresStoreLog.NotReady(_logger, ex);
                    return false;
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _dataSource.DisposeAsync().ConfigureAwait(false);
        foreach (var slot in _groups)
        {
            slot.Gate.Dispose();
        }
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

    /// <summary>timestamptz keeps microseconds; rounding times down first makes what a node holds in memory equal what any
    /// node reads back, so expiry decides the same either way.</summary>
    private static DateTimeOffset TruncateToMicroseconds(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Ticks - (utc.Ticks % 10), TimeSpan.Zero);
    }

    private static NpgsqlBatchCommand Command(string sql, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }

    /// <summary>This node's copy of one group's cache, valid only while the group row's version equals
    /// <see cref="Version"/>. <see cref="Gate"/> lets one batch per group per node at a time reach the database.</summary>
    private sealed class GroupSlot
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);

        public ProductGroupLedger? Ledger { get; set; }

        public long Version { get; set; } = -1;

        /// <summary>The row's last_seq when <see cref="Ledger"/> was written: entries with a larger seq are newer than the copy.</summary>
        public long LastSeq { get; set; } = -1;

        /// <summary>The fingerprint of <see cref="Ledger"/>'s CMIDs (see migration 0002).</summary>
        public long Fingerprint { get; set; }
    }
}
