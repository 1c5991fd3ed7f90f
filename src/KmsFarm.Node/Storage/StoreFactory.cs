using KmsFarm.Activation;
using KmsFarm.Node.Configuration;
using KmsFarm.Storage.Postgres;
using KmsFarm.Storage.Sqlite;

namespace KmsFarm.Node.Storage;

/// <summary>The one place that maps a store scheme to an implementation.</summary>
public sealed class StoreFactory(ILoggerFactory loggerFactory) : IActivationStoreFactory
{
    public IActivationStore Create(StoreLocation location) => location.Kind switch
    {
        StoreKind.Sqlite => new SqliteActivationStore(new SqliteStoreOptions { Path = location.Target }, loggerFactory.CreateLogger<SqliteActivationStore>()),
        StoreKind.Postgres => CreatePostgres(location.Target, loggerFactory),
        _ => throw new ArgumentOutOfRangeException(nameof(location), location.Kind, "Unknown store kind."),
    };

    // ==== PostgreSQL plug-in point ====================================================================================
    // The farm store over the connection string after "postgres:"; a malformed one stops start-up naming the setting.
    private static PostgresActivationStore CreatePostgres(string connectionString, ILoggerFactory loggerFactory)
    {
        try
        {
            return new PostgresActivationStore(connectionString, loggerFactory);
        }
        catch (ArgumentException ex)
        {
            throw new NodeConfigurationException($"KmsFarm:Store:Location (--store) postgres: {ex.Message}", ex);
        }
    }
}
