using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using static KmsFarm.Storage.Postgres.Tests.Attempts;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>PostgreSQL going away under a loaded farm: nodes report not-ready and refuse rather than invent counts, and
/// serve again once it is back.</summary>
[Trait("Category", "Cluster")]
public sealed class FarmRestartTests(RestartablePostgres postgres) : IClassFixture<RestartablePostgres>
{
    private static readonly TimeSpan ServingAgainWithin = TimeSpan.FromSeconds(15);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PostgreSQL_restarted_mid_load_makes_nodes_refuse_then_serve_again()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var nodes = await FarmNode.StartManyAsync(db, 2, Ct);
        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var told = new ConcurrentDictionary<string, uint>();
            int sent = 0;
            var load = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested && Volatile.Read(ref sent) < 1500)
                {
                    string name = $"pc-{Interlocked.Increment(ref sent)}";
                    try
                    {
                        var result = await nodes[worker % 2].ActivateAsync(FarmTests.Windows, Guid.NewGuid(), name, stop.Token);
                        if (result.Succeeded)
                        {
                            told[name] = result.Response!.CurrentCount;
                        }
                    }
                    catch (Exception) when (!stop.IsCancellationRequested)
                    {
                        // Refused: the connection closed or broke. Nothing was counted for this machine by us.
                        await Task.Delay(20, CancellationToken.None);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }, CancellationToken.None)).ToArray();

            await WaitForAsync(() => told.Count >= 20);
            await postgres.StopAsync(Ct);
            try
            {
                foreach (var node in nodes)
                {
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, await node.ReadyAsync(Ct));
                }

                // While the database is down no machine is told a count.
                foreach (var node in nodes)
                {
                    var outcome = await Record.ExceptionAsync(async () =>
                        Assert.False((await node.ActivateAsync(FarmTests.Windows, Guid.NewGuid(), "during-outage", Ct)).Succeeded));
                    Assert.True(outcome is null or IOException or KmsFarm.Protocol.Kms.KmsProtocolException or TimeoutException, outcome?.ToString());
                }
            }
            finally
            {
                await postgres.StartAsync(Ct);
            }

            var clock = Stopwatch.StartNew();
            bool ready = false;
            while (!ready && clock.Elapsed < ServingAgainWithin)
            {
                ready = (await Task.WhenAll(nodes.Select(n => n.ReadyAsync(Ct)))).All(s => s == HttpStatusCode.OK);
                if (!ready)
                {
                    await Task.Delay(100, Ct);
                }
            }

            Assert.True(ready, $"the nodes were not ready within {ServingAgainWithin} of PostgreSQL starting again");
            int before = told.Count;
            await WaitForAsync(() => told.Count >= before + 20);
            await stop.CancelAsync();
            await Task.WhenAll(load);

            // Every count told was committed, in one serialized order, and no count below the cap (50) was told twice.
            var history = await HistoryInOrderAsync(db);
            var recorded = history.Where(h => h.Machine.StartsWith("pc-", StringComparison.Ordinal)).ToDictionary(h => h.Machine, h => h.Count!.Value);
            Assert.All(told, t => Assert.Equal(recorded[t.Key], (int)t.Value));
            var belowCap = told.Values.Where(v => v < 50).ToArray();
            Assert.Equal(belowCap.Length, belowCap.Distinct().Count());
            Assert.Equal(Replay(history, T0), history.Select(h => h.Count!.Value));
            Assert.DoesNotContain(history, h => h.Machine == "during-outage");
        }
        finally
        {
            await FarmTests.DisposeAllAsync(nodes);
        }
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the load made no progress");
            await Task.Delay(20, Ct);
        }
    }
}
