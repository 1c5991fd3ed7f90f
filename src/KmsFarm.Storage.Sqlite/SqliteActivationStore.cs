using System.Globalization;
using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Storage.Sqlite;

/// <summary>The embedded store of a single node: one SQLite file in WAL mode with <c>synchronous=FULL</c>, so every
/// method that changes state returns only after its transaction is durable.</summary>
/// <remarks>
/// The node owns the file. All writes go through one connection under one write lock (SQLite has a single writer
/// anyway), with prepared statements. Each product group's <see cref="ProductGroupLedger"/> is loaded from the file on
/// open and kept in memory; a batch is applied to it under the group's lock, persisted in one <c>BEGIN IMMEDIATE</c>
/// transaction, and if that fails the ledger is reloaded from the file, so memory never runs ahead of disk.
/// Reads use pooled read-only connections and never wait for writers (WAL).
/// </remarks>
public sealed partial class SqliteActivationStore : IActivationStore, INodeRegistry
{
    private readonly ILogger _logger;
    private readonly TimeProvider _timeProvider;
    private readonly TimeSpan _nodeGoneAfter;
    private readonly string _writerConnectionString;
    private readonly string _readerConnectionString;
    private readonly int _busyTimeoutMs;
    private readonly SemaphoreSlim _openLock = new(1, 1);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly GroupState[] _groups;
    private SqliteConnection? _writer;
    private SqliteWriterStatements? _statements;
    private FarmIdentity? _identity;
    private volatile bool _opened;
    private volatile bool _disposed;

    public SqliteActivationStore(SqliteStoreOptions options, ILogger logger)
        : this(options, logger, TimeProvider.System)
    {
    }

    /// <param name="timeProvider">The clock of the node registry's heartbeats (activation times come from the caller).</param>
    public SqliteActivationStore(SqliteStoreOptions options, ILogger logger, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        ArgumentNullException.ThrowIfNull(timeProvider);
        options.Validate();
        _logger = logger;
        _timeProvider = timeProvider;
        _nodeGoneAfter = options.NodeGoneAfter;
        Path = System.IO.Path.GetFullPath(options.Path);
        _busyTimeoutMs = (int)options.BusyTimeout.TotalMilliseconds;
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            ForeignKeys = true,
            // The writer stays open for the store's lifetime; unpooled so Dispose really closes the file.
            Pooling = false,
        };
        _writerConnectionString = builder.ToString();
        builder.Mode = SqliteOpenMode.ReadOnly;
        builder.Pooling = true;
        _readerConnectionString = builder.ToString();
        _groups = Enum.GetValues<ProductGroup>().Select(g => new GroupState(g)).ToArray();
    }

    /// <summary>The full path of the database file.</summary>
    public string Path { get; }

    /// <summary>The schema version this build creates and understands.</summary>
    public static int LatestSchemaVersion => SqliteMigrator.LatestVersion;

    /// <summary>Opens the file (creating it and its directory if missing), switches it to WAL, applies pending migrations
    /// and loads every ledger. Safe to call more than once; every other method calls it first.</summary>
    public async ValueTask InitializeAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_opened)
        {
            return;
        }

        await _openLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_opened)
            {
                await OpenAsync(cancellationToken).ConfigureAwait(false);
                _opened = true;
            }
        }
        finally
        {
            _openLock.Release();
        }
    }

    public async ValueTask<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        if (_disposed)
        {
            return false;
        }

        try
        {
            await InitializeAsync(cancellationToken).ConfigureAwait(false);
            await using var connection = await OpenReaderAsync(cancellationToken).ConfigureAwait(false);
            using var command = connection.CreateCommand();
            command.CommandText = "SELECT count(*) FROM schema_migrations";
            return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is long versions && versions > 0;
        }
        catch (Exception ex) when (ex is SqliteException or IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            SqliteStoreLog.NotReady(_logger, ex, Path);
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Wait for an open or a write in flight, then close the file.
        await _openLock.WaitAsync().ConfigureAwait(false);
        await _writeLock.WaitAsync().ConfigureAwait(false);
        try
        {
            using (var reader = new SqliteConnection(_readerConnectionString))
            {
                SqliteConnection.ClearPool(reader);
            }

            _statements?.Dispose();
            _statements = null;
            if (_writer is not null)
            {
                // The last connection to close checkpoints the WAL into the file and deletes it.
                await _writer.DisposeAsync().ConfigureAwait(false);
                _writer = null;
                SqliteStoreLog.StoreClosed(_logger, Path);
            }
        }
        finally
        {
            _writeLock.Release();
            _openLock.Release();
        }
    }

    private async Task OpenAsync(CancellationToken cancellationToken)
    {
        if (System.IO.Path.GetDirectoryName(Path) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        var writer = new SqliteConnection(_writerConnectionString);
        try
        {
            await writer.OpenAsync(cancellationToken).ConfigureAwait(false);

            // PRAGMA takes no parameters; the value is an int from validated options.
            await ExecuteAsync(writer, "PRAGMA busy_timeout = " + _busyTimeoutMs.ToString(CultureInfo.InvariantCulture), cancellationToken)
                .ConfigureAwait(false);
            var journalMode = Convert.ToString(
                await ScalarAsync(writer, "PRAGMA journal_mode = WAL", cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
            if (!string.Equals(journalMode, "wal", StringComparison.OrdinalIgnoreCase))
            {
                SqliteStoreLog.NotWal(_logger, Path, journalMode ?? "unknown");
            }

            // FULL: a commit is on disk (WAL fsynced) before it returns, so no answer is sent for a lost activation.
            await ExecuteAsync(writer, "PRAGMA synchronous = FULL", cancellationToken).ConfigureAwait(false);

            int version = await SqliteMigrator.MigrateAsync(writer, Path, _logger, cancellationToken).ConfigureAwait(false);
            _writer = writer;
            _statements = new SqliteWriterStatements(writer);
            foreach (var state in _groups)
            {
                await LoadLedgerAsync(state, cancellationToken).ConfigureAwait(false);
            }

            SqliteStoreLog.StoreOpened(_logger, Path, version, writer.ServerVersion);
        }
        catch
        {
            _statements?.Dispose();
            _statements = null;
            _writer = null;
            await writer.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task<SqliteConnection> OpenReaderAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_readerConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task EnsureOpenAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_opened)
        {
            await InitializeAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
    }

    private GroupState GetGroup(ProductGroup group) =>
        (uint)group < (uint)_groups.Length && _groups[(int)group].Group == group
            ? _groups[(int)group]
            : throw new ArgumentOutOfRangeException(nameof(group), group, "Not a product group.");

    /// <summary>One product group's in-memory ledger and its lock.</summary>
    private sealed class GroupState(ProductGroup group)
    {
        public ProductGroup Group { get; } = group;

        public SemaphoreSlim Lock { get; } = new(1, 1);

        /// <summary>Null after a failed reload: loaded again on next use.</summary>
        public ProductGroupLedger? Ledger { get; set; }

        /// <summary>The seq the next renewed or new entry gets (larger than every stored one).</summary>
        public long NextSeq { get; set; } = 1;
    }
}
