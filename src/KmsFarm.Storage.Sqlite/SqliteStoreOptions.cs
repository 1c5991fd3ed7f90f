using KmsFarm.Activation;

namespace KmsFarm.Storage.Sqlite;

/// <summary>Settings of the embedded single-node store.</summary>
public sealed class SqliteStoreOptions
{
    public const string SectionName = "Store:Sqlite";

    public const string DefaultPath = "kmsfarm.db";

    public static readonly TimeSpan DefaultBusyTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The database file (created with its directory if missing). Default <c>kmsfarm.db</c> in the working
    /// directory. Its <c>-wal</c> and <c>-shm</c> companions live beside it.</summary>
    public string Path { get; set; } = DefaultPath;

    /// <summary>How long a statement waits for a lock held by another connection before failing. Default 5 s.
    /// Only another process (a backup, the sqlite3 shell) can hold one: inside the node all writes go through one
    /// connection.</summary>
    public TimeSpan BusyTimeout { get; set; } = DefaultBusyTimeout;

    /// <summary>When a commit returns: <see cref="StoreDurability.Process"/> (default; WAL with <c>synchronous = NORMAL</c>:
    /// durable when the process dies, the last commits may be lost if the machine loses power) or
    /// <see cref="StoreDurability.Fsync"/> (<c>synchronous = FULL</c>: on disk before it returns).</summary>
    public StoreDurability Durability { get; set; } = StoreDurability.Process;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Path))
        {
            throw new ArgumentException($"{SectionName}:{nameof(Path)} must name the database file.", nameof(Path));
        }

        if (BusyTimeout < TimeSpan.Zero || BusyTimeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentOutOfRangeException(
                nameof(BusyTimeout), BusyTimeout, $"{SectionName}:{nameof(BusyTimeout)} must be between 0 and 10 minutes.");
        }

        if (!Enum.IsDefined(Durability))
        {
            throw new ArgumentOutOfRangeException(nameof(Durability), Durability, $"{SectionName}:{nameof(Durability)} must be Process or Fsync.");
        }
    }
}
