using Xunit;

namespace KmsFarm.TestKit;

/// <summary>A PostgreSQL server (see <see cref="PostgresServer"/>) with a fresh database for this fixture. Tests that
/// need isolation from each other ask for more with <see cref="CreateDatabaseAsync"/>. Each fixture instance owns its
/// server, so stopping it affects only the tests that share this fixture.</summary>
public class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>A connection string to this fixture's own database.</summary>
    public string ConnectionString { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        _server = await PostgresServer.CreateAsync(CancellationToken.None).ConfigureAwait(false);
        ConnectionString = await _server.CreateDatabaseAsync(CancellationToken.None).ConfigureAwait(false);
    }

    /// <summary>Another empty database on the same server.</summary>
    public Task<string> CreateDatabaseAsync(CancellationToken cancellationToken) => Server.CreateDatabaseAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Server.StopAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => Server.StartAsync(cancellationToken);

    public Task RestartAsync(CancellationToken cancellationToken) => Server.RestartAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            if (!_server.IsThrowaway && ConnectionString.Length > 0)
            {
                await _server.DropDatabaseAsync(ConnectionString, CancellationToken.None).ConfigureAwait(false);
            }

            await _server.DisposeAsync().ConfigureAwait(false);
        }

        GC.SuppressFinalize(this);
    }
}
