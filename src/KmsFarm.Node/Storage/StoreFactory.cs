using KmsFarm.Activation;
using KmsFarm.Node.Configuration;
using KmsFarm.Storage.Postgres;
using KmsFarm.Storage.Sqlite;

namespace KmsFarm.Node.Storage;

/// <summary>The one place that maps a store scheme to an implementation.</summary>
/// <param name="durability">When a ledger commit returns (<c>KmsFarm:Store:Durability</c>).</param>
public sealed class StoreFactory(ILoggerFactory loggerFactory, StoreDurability durability) : IActivationStoreFactory
{
    public StoreFactory(ILoggerFactory loggerFactory)
        : this(loggerFactory, StoreDurability.Process)
    {
    }

    public IActivationStore Create(StoreLocation location) => location.Kind switch
    {
        StoreKind.Sqlite => new SqliteActivationStore(
            new SqliteStoreOptions { Path = location.Target, Durability = durability },
            loggerFactory.CreateLogger<SqliteActivationStore>()),
        StoreKind.Postgres => CreatePostgres(location.Target),
        _ => throw new ArgumentOutOfRangeException(nameof(location), location.Kind, "Unknown store kind."),
    };

    // ==== PostgreSQL plug-in point ====================================================================================
    // The farm store over the connection string after "postgres:"; a malformed one stops start-up naming the setting.
    private PostgresActivationStore CreatePostgres(string connectionString)
    {
        try
        {
            return new PostgresActivationStore(
                new PostgresStoreOptions { ConnectionString = connectionString, Durability = durability }, loggerFactory);
        }
        catch (ArgumentException ex)
        {
            throw new NodeConfigurationException($"KmsFarm:Store:Location (--store) postgres: {ex.Message}", ex);
        }
    }
}
