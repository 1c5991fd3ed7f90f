using System.Net;
using KmsFarm.TestKit;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>A node over a PostgreSQL whose processes are all stopped (SIGSTOP): /healthz/ready still answers, not ready and
/// why, and is ready again once the database resumes. That the answer comes at the probe's 1.5 s budget is shown on the
/// node's clock by ReadinessTests; here, on a real process and a real frozen server, the answer must simply come (within
/// 10 s, however loaded the machine) instead of waiting for the database.</summary>
public sealed class FrozenDatabaseTests : IAsyncLifetime
{
    private PostgresServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await PostgresServer.CreateAsync(Ct);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Readiness_answers_not_ready_while_the_database_is_frozen()
    {
        if (!_server.IsThrowaway)
        {
            Assert.Skip($"{PostgresServer.EnvironmentVariable} names a server these tests cannot freeze.");
        }

        string db = await _server.CreateDatabaseAsync(Ct);
        await using var node = await FarmNode.StartAsync(db, "frozen-db-node", Ct);
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/healthz/ready", Ct)).StatusCode);

        _server.Freeze();
        try
        {
            for (int i = 0; i < 3; i++)
            {
                using var limit = CancellationTokenSource.CreateLinkedTokenSource(Ct);
                limit.CancelAfter(TimeSpan.FromSeconds(10));
                var response = await node.Http.GetAsync("/healthz/ready", limit.Token);
                Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
                Assert.StartsWith("not ready: ", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
            }
        }
        finally
        {
            _server.Thaw();
        }

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((await node.Http.GetAsync("/healthz/ready", Ct)).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "not ready again within 60 s of the database resuming");
            await Task.Delay(200, Ct);
        }
    }
}
