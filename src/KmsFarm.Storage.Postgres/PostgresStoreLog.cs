using Microsoft.Extensions.Logging;

namespace KmsFarm.Storage.Postgres;

/// <summary>Log messages of the farm store, EventIds 4100–4199 (the storage range; 4000–4099 is the embedded store).
/// Method names are EventNames: treat them as a contract.</summary>
internal static partial class PostgresStoreLog
{
    [LoggerMessage(4100, LogLevel.Information, "Opened PostgreSQL store {Database} on {Host} at schema version {Version}")]
    public static partial void StoreOpened(ILogger logger, string? database, string? host, int version);

    [LoggerMessage(4101, LogLevel.Information, "Applied schema migration {Version} ({Name})")]
    public static partial void MigrationApplied(ILogger logger, int version, string name);

    [LoggerMessage(4102, LogLevel.Warning, "The database is at schema version {DatabaseVersion}, newer than this node's {KnownVersion}")]
    public static partial void SchemaNewer(ILogger logger, int databaseVersion, int knownVersion);

    [LoggerMessage(4103, LogLevel.Information, "Stored a new farm identity with {CsvlkCount} CSVLK identities")]
    public static partial void IdentityCreated(ILogger logger, int csvlkCount);

    // 4104 (LedgerLoaded) and 4107 (LedgerRefreshMismatch) are retired: the product-group writer loads and logs the cache.

    [LoggerMessage(4105, LogLevel.Warning,
        "Writing a batch of {Count} activations to the {Group} ledger failed; nothing was counted. {Suppressed} more failed write(s) since the last line")]
    public static partial void ApplyFailed(ILogger logger, Exception exception, string group, int count, long suppressed);

    [LoggerMessage(4106, LogLevel.Warning, "PostgreSQL store is not ready. {Suppressed} more failed probe(s) since the last line")]
    public static partial void NotReady(ILogger logger, Exception exception, long suppressed);
}
