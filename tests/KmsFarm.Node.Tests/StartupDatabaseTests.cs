using System.Net;
using KmsFarm.TestKit;
using Npgsql;

namespace KmsFarm.Node.Tests;

/// <summary>The node as a real process against PostgreSQL at start: a database that does not exist, or a role the server
/// refuses, is one line and a non-zero exit; a server that is down is waited for (not ready and saying why, one log
/// line per retry) and the node becomes ready when it returns.</summary>
public sealed class StartupDatabaseTests : IAsyncLifetime
{
    private PostgresServer _server = null!;

    public async ValueTask InitializeAsync() => _server = await PostgresServer.CreateAsync(TestContext.Current.CancellationToken);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_database_that_does_not_exist_is_one_line_and_a_non_zero_exit()
    {
        var ct = TestContext.Current.CancellationToken;
        var missing = new NpgsqlConnectionStringBuilder(_server.ConnectionString) { Database = "kmsfarm_no_such_db" }.ConnectionString;
        string dir = Directory.CreateTempSubdirectory("kmsfarm-start-").FullName;
        try
        {
            await using var node = await NodeCommand.RunAsync(
                StartupFailureTests.WithDefaults(["--store", "postgres:" + missing], dir), TimeSpan.FromSeconds(60), ct, dir);

            StartupFailureTests.AssertOneLineFailure(node, "KmsFarm:Store:Location (--store)", "missing database");
            Assert.Contains("kmsfarm_no_such_db", node.StandardError[0], StringComparison.Ordinal);
            Assert.Contains("does not exist", node.StandardError[0], StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Credentials_the_server_refuses_are_one_line_and_a_non_zero_exit()
    {
        var ct = TestContext.Current.CancellationToken;
        var refused = new NpgsqlConnectionStringBuilder(_server.ConnectionString) { Username = "kmsfarm_no_such_role", Password = "wrong" }.ConnectionString;
        string dir = Directory.CreateTempSubdirectory("kmsfarm-start-").FullName;
        try
        {
            await using var node = await NodeCommand.RunAsync(
                StartupFailureTests.WithDefaults(["--store", "postgres:" + refused], dir), TimeSpan.FromSeconds(60), ct, dir);

            StartupFailureTests.AssertOneLineFailure(node, "KmsFarm:Store:Location (--store)", "refused credentials");
            Assert.Contains("kmsfarm_no_such_role", node.StandardError[0], StringComparison.Ordinal);
            Assert.DoesNotContain("wrong", node.StandardError[0], StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_database_server_that_is_down_at_start_is_waited_for()
    {
        var ct = TestContext.Current.CancellationToken;
        if (!_server.IsThrowaway)
        {
            Assert.Skip($"{PostgresServer.EnvironmentVariable} names a server these tests cannot stop.");
        }

        string connectionString = await _server.CreateDatabaseAsync(ct);
        await _server.StopAsync(ct);
        string dir = Directory.CreateTempSubdirectory("kmsfarm-start-").FullName;
        try
        {
            int http = LoopbackPorts.Free();
            await using var node = NodeCommand.Start(
                StartupFailureTests.WithDefaults(
                    ["--store", "postgres:" + connectionString, "--http-endpoint", $"127.0.0.1:{http}", "--log-level", "Information"], dir),
                dir);
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{http}"), Timeout = TimeSpan.FromSeconds(5) };

            // Waiting: alive, not ready, and saying why; one log line per retry.
            await node.WaitForLineAsync(l => l.Contains("is not reachable", StringComparison.Ordinal), TimeSpan.FromSeconds(60), ct);
            var ready = await GetWhenListeningAsync(client, "/healthz/ready", node, ct);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("database", await ready.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz/live", ct)).StatusCode);
            await node.WaitForLineAsync(l => l.Contains("retry 2 ", StringComparison.Ordinal), TimeSpan.FromSeconds(60), ct);
            Assert.False(node.HasExited, node.Output);

            await _server.StartAsync(ct);
            await StartupFailureTests.WaitUntilReadyAsync(node, http, ct);
            Assert.False(node.PrintedStackTrace, node.Output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<HttpResponseMessage> GetWhenListeningAsync(HttpClient client, string path, NodeCommand node, CancellationToken ct)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                return await client.GetAsync(path, ct);
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !node.HasExited)
            {
                await Task.Delay(200, ct);
            }
        }
    }
}
