using KmsFarm.Activation;

namespace KmsFarm.Storage.Postgres;

/// <summary>Settings of the farm store.</summary>
public sealed class PostgresStoreOptions
{
    public const string SectionName = "Store:Postgres";

    public static readonly TimeSpan DefaultReadyTimeout = TimeSpan.FromSeconds(2);


    /// <summary>An Npgsql connection string, e.g. <c>Host=db;Database=kmsfarm;Username=kmsfarm;Password=…</c>, or a URL
    /// <c>postgresql://user:password@host:port/database</c>. Required. Every node of a farm points at the same database.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>How long the readiness check waits for the database before reporting not-ready. Default 2 s.</summary>
    public TimeSpan ReadyTimeout { get; set; } = DefaultReadyTimeout;

    /// <summary>When a ledger commit returns: <see cref="StoreDurability.Process"/> (default: the database has it,
    /// <c>synchronous_commit = off</c> for that transaction, so a power loss of the database machine may lose the last
    /// moments) or <see cref="StoreDurability.Fsync"/> (flushed to the database's disk first).</summary>
    public StoreDurability Durability { get; set; } = StoreDurability.Process;

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(ConnectionString))
        {
            throw new ArgumentException($"{SectionName}:{nameof(ConnectionString)} must be set to a PostgreSQL connection string.",
                nameof(ConnectionString));
        }

        try
        {
            _ = PostgresConnectionString.Normalize(ConnectionString);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            throw new ArgumentException($"{SectionName}:{nameof(ConnectionString)} is not a valid connection string: {ex.Message}",
                nameof(ConnectionString), ex);
        }

        if (ReadyTimeout <= TimeSpan.Zero || ReadyTimeout > TimeSpan.FromMinutes(1))
        {
            throw new ArgumentOutOfRangeException(
                nameof(ReadyTimeout), ReadyTimeout, $"{SectionName}:{nameof(ReadyTimeout)} must be above 0 and at most 1 minute.");
        }

        if (!Enum.IsDefined(Durability))
        {
            throw new ArgumentOutOfRangeException(nameof(Durability), Durability, $"{SectionName}:{nameof(Durability)} must be Process or Fsync.");
        }
    }
}
