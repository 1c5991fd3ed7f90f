namespace KmsFarm.Storage.Postgres;

/// <summary>Settings of the farm store.</summary>
public sealed class PostgresStoreOptions
{
    public const string SectionName = "Store:Postgres";

    public static readonly TimeSpan DefaultReadyTimeout = TimeSpan.FromSeconds(2);

    public static readonly TimeSpan DefaultNodeGoneAfter = TimeSpan.FromSeconds(30);

    public static readonly TimeSpan DefaultLockTimeout = TimeSpan.FromSeconds(10);

    /// <summary>An Npgsql connection string, e.g. <c>Host=db;Database=kmsfarm;Username=kmsfarm;Password=…</c>, or a URL
    /// <c>postgresql://user:password@host:port/database</c>. Required. Every node of a farm points at the same database.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>How long the readiness check waits for the database before reporting not-ready. Default 2 s.</summary>
    public TimeSpan ReadyTimeout { get; set; } = DefaultReadyTimeout;

    /// <summary>A node whose last heartbeat is older than this is listed as gone. Default 30 s.</summary>
    public TimeSpan NodeGoneAfter { get; set; } = DefaultNodeGoneAfter;

    /// <summary>How long a batch waits for a product group's lock held by another node before it fails (the requests
    /// are refused, nothing is counted), and how long a node may sit idle inside a ledger transaction before the database
    /// ends its session and frees the lock. Bounds how long one stuck node can stall a group for the farm. Default 10 s.</summary>
    public TimeSpan LockTimeout { get; set; } = DefaultLockTimeout;

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

        if (LockTimeout < TimeSpan.FromMilliseconds(1) || LockTimeout > TimeSpan.FromMinutes(10))
        {
            throw new ArgumentOutOfRangeException(
                nameof(LockTimeout), LockTimeout, $"{SectionName}:{nameof(LockTimeout)} must be between 1 ms and 10 minutes.");
        }

        if (NodeGoneAfter <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(
                nameof(NodeGoneAfter), NodeGoneAfter, $"{SectionName}:{nameof(NodeGoneAfter)} must be above 0.");
        }
    }
}
