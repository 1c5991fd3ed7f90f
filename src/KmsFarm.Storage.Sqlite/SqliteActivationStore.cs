using System.Globalization;
using KmsFarm.Activation;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Storage.Sqlite;

/// <summary>The embedded store of a single node: one SQLite file in WAL mode, so every method that changes state returns
/// only after its transaction committed (<see cref="SqliteStoreOptions.Durability"/>: <c>synchronous = NORMAL</c> or
/// <c>FULL</c>).</summary>
/// <remarks>
/// The node owns the file. All writes go through one connection under one write lock (SQLite has a single writer
/// anyway), with prepared statements. Each product group's cache is held by its single writer (the product-group grain),
/// which loads it once and commits each batch in one <c>BEGIN IMMEDIATE</c> transaction fenced by the group's version.
/// Reads use pooled read-only connections and never wait for writers (WAL).
/// </remarks>
public sealed partial class SqliteActivationStore : IActivationStore, IHistoryRetention
{
    private readonly ILogger _logger;
    private readonly LogRateLimiter _failureLog = new();
    private readonly LogRateLimiter _notReadyLog = new();
    private readonly StoreDurability _durability;
    private readonly string _writerConnectionString;
    private readonly string _readerConnectionString;
    private readonly int _busyTimeoutMs;
    private readonly SemaphoreSlim _openLock = new(1, 1);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private SqliteConnection? _writer;
    private SqliteWriterStatements? _statements;
    private FarmIdentity? _identity;
    private volatile bool _opened;
    private volatile bool _disposed;

    public SqliteActivationStore(SqliteStoreOptions options, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(logger);
        options.Validate();
        _logger = logger;
        _durability = options.Durability;
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
            if (_notReadyLog.TryAcquire(out long suppressed))
            {
                SqliteStoreLog.NotReady(_logger, ex, Path, suppressed);
            }
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

            // FULL: a commit is on disk (WAL fsynced) before it returns. NORMAL (WAL mode): a commit is in the WAL file before
            // it returns, so it survives the process being killed; only a power loss can take the last ones.
            await ExecuteAsync(writer, _durability == StoreDurability.Fsync ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                cancellationToken).ConfigureAwait(false);

            int version = await SqliteMigrator.MigrateAsync(writer, Path, _logger, cancellationToken).ConfigureAwait(false);
            _writer = writer;
            _statements = new SqliteWriterStatements(writer);

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
}
