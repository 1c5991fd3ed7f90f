using KmsFarm.Activation;
using KmsFarm.Storage.Sqlite;

namespace KmsFarm.Node.Storage;

/// <summary>The one place that maps a store scheme to an implementation.</summary>
public sealed class StoreFactory(ILoggerFactory loggerFactory) : IActivationStoreFactory
{
    public IActivationStore Create(StoreLocation location) => location.Kind switch
    {
        StoreKind.Sqlite => new SqliteActivationStore(new SqliteStoreOptions { Path = location.Target }, loggerFactory.CreateLogger<SqliteActivationStore>()),
        StoreKind.Postgres => CreatePostgres(location.Target),
        _ => throw new ArgumentOutOfRangeException(nameof(location), location.Kind, "Unknown store kind."),
    };

    // ==== PostgreSQL plug-in point ====================================================================================
    // The PostgreSQL store (src/KmsFarm.Storage.Postgres) plugs in here: construct PostgresActivationStore from the
    // connection string (everything after "postgres:"). Until then a postgres: store stops start-up with this message.
    private static IActivationStore CreatePostgres(string connectionString)
    {
        _ = connectionString;
        throw new NotSupportedException("KmsFarm:Store:Location (--store) postgres: is not available in this build yet; use sqlite:PATH.");
    }
}
