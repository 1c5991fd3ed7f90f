using KmsFarm.Client;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>What a PostgreSQL node logs at the default level, busy then idle: its own notable events only. Libraries stay
/// at Warning (Npgsql would log every SQL command, Orleans' placement every retry) and nothing is logged per request, even
/// when the node runs without the shipped appsettings.json (here: content root is an empty directory).</summary>
public sealed class LogVolumeTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task At_the_default_level_a_busy_then_idle_node_logs_only_its_own_notable_events()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var logs = new CapturingLoggerProvider();
        await using var node = await InProcessNode.StartAsync(
            ["--log-level", "Information"], b => b.Logging.AddProvider(logs), "postgres:" + db, "log-volume", Ct);
        var products = new[] { "Windows 10/11 Pro", "Office Professional Plus 2016", "Office Professional Plus 2010" }
            .Select(n => ClientCatalog.Default.FindByName(n)!).ToArray();

        await Task.WhenAll(Enumerable.Range(0, 6).Select(async worker =>
        {
            await using var client = await KmsClientConnection.ConnectAsync("127.0.0.1", node.KmsEndPoint.Port, null, Ct);
            for (int i = 0; i < 50; i++)
            {
                var product = products[i % products.Length];
                var request = KmsRequestFactory.Create(product, Guid.NewGuid(), $"pc-{worker}-{i}", KmsProtocolVersion.V6, DateTime.UtcNow);
                Assert.True((await client.ActivateAsync(KmsProtocolVersion.V6, request, Ct)).Succeeded);
            }
        }));
        await Task.Delay(TimeSpan.FromSeconds(8), Ct); // idle: membership heartbeats and probes go on

        var entries = logs.Entries;
        var foreign = entries
            .Where(e => e.Level < LogLevel.Warning && !e.Category.StartsWith("KmsFarm", StringComparison.Ordinal) && e.Category != "Microsoft.Hosting.Lifetime")
            .ToArray();
        Assert.True(foreign.Length == 0,
            $"{foreign.Length} library lines below Warning, e.g.\n" + string.Join('\n', foreign.Take(5).Select(e => $"{e.Level} {e.Category}: {e.Message}")));
        var ours = entries.Where(e => e.Level >= LogLevel.Information && e.Category.StartsWith("KmsFarm", StringComparison.Ordinal)).ToArray();
        Assert.True(ours.Length < 40, $"{ours.Length} lines of ours for 300 activations:\n" + string.Join('\n', ours.Select(e => $"{e.Category}: {e.Message}")));
    }
}
