using Microsoft.Extensions.Logging;

namespace KmsFarm.Storage.Sqlite;

/// <summary>Log messages of the embedded store, EventIds 4000–4099 (the storage range). Method names are EventNames:
/// treat them as a contract.</summary>
internal static partial class SqliteStoreLog
{
    [LoggerMessage(4000, LogLevel.Information, "Opened SQLite store {Path} at schema version {Version} (SQLite {SqliteVersion})")]
    public static partial void StoreOpened(ILogger logger, string path, int version, string sqliteVersion);

    [LoggerMessage(4001, LogLevel.Information, "Applied schema migration {Version} ({Name}) to {Path}")]
    public static partial void MigrationApplied(ILogger logger, int version, string name, string path);

    [LoggerMessage(4002, LogLevel.Warning, "SQLite store {Path} runs in journal mode {JournalMode}, not WAL; readers will wait for writers")]
    public static partial void NotWal(ILogger logger, string path, string journalMode);

    [LoggerMessage(4003, LogLevel.Information, "Stored a new farm identity with {CsvlkCount} CSVLK identities")]
    public static partial void IdentityCreated(ILogger logger, int csvlkCount);

    // 4004 (LedgerLoaded) and 4006 (ReloadFailed) are retired: the product-group writer loads and logs the cache now.

    [LoggerMessage(4005, LogLevel.Error,
        "Writing a batch of {Count} activations to the {Group} ledger failed; its writer reloads the ledger from the file. {Suppressed} more failed write(s) since the last line")]
    public static partial void ApplyFailed(ILogger logger, Exception exception, string group, int count, long suppressed);

    [LoggerMessage(4007, LogLevel.Warning, "SQLite store {Path} is not ready. {Suppressed} more failed probe(s) since the last line")]
    public static partial void NotReady(ILogger logger, Exception exception, string path, long suppressed);

    [LoggerMessage(4008, LogLevel.Information, "Closed SQLite store {Path}")]
    public static partial void StoreClosed(ILogger logger, string path);
}
