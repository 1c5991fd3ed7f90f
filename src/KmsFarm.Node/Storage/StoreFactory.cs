using KmsFarm.Activation;

namespace KmsFarm.Node.Storage;

/// <summary>The one place that maps a store scheme to an implementation.</summary>
public sealed class StoreFactory(ILoggerFactory loggerFactory, TimeProvider timeProvider) : IActivationStoreFactory
{
    public IActivationStore Create(StoreLocation location) => location.Kind switch
    {
        StoreKind.Sqlite => CreateSqlite(location.Target),
        StoreKind.Postgres => CreatePostgres(location.Target),
        _ => throw new ArgumentOutOfRangeException(nameof(location), location.Kind, "Unknown store kind."),
    };

    private IActivationStore CreateSqlite(string path)
    {
        _ = loggerFactory;
        _ = timeProvider;
        throw new NotSupportedException($"The SQLite store is not available in this build (path {path}).");
    }

    // ==== PostgreSQL plug-in point ====================================================================================
    // The PostgreSQL store (src/KmsFarm.Storage.Postgres) plugs in here: construct PostgresActivationStore from the
    // connection string (everything after "postgres:"). Until then a postgres: store stops start-up with this message.
    private static IActivationStore CreatePostgres(string connectionString)
    {
        _ = connectionString;
        throw new NotSupportedException("KmsFarm:Store:Location (--store) postgres: is not available in this build yet; use sqlite:PATH.");
    }
}
