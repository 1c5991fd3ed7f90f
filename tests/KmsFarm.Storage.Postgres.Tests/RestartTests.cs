using System.Diagnostics;
using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using static KmsFarm.Storage.Postgres.Tests.Attempts;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>A server of its own: these tests stop it.</summary>
public sealed class RestartablePostgres : PostgresFixture;

[Trait("Category", "Integration")]
public sealed class RestartTests(RestartablePostgres postgres) : IClassFixture<RestartablePostgres>
{
    /// <summary>Patience for serving again after the database returns, on its own (measured: 0.2 s, docs/RELIABILITY.md); a
    /// loaded test machine can stretch it, so the bound is generous: what fails is a node that does not recover.</summary>
    private static readonly TimeSpan ReadyAgainWithin = TimeSpan.FromSeconds(15);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task While_the_database_is_down_the_store_is_not_ready_and_counts_nothing_then_serves_again()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using var store = await OpenAsync(db);
        var cmids = Cmids(12);
        for (int i = 0; i < 10; i++)
        {
            Assert.Equal(i + 1, await store.ApplyOneAsync(cmids[i]));
        }

        Assert.True(await store.IsReadyAsync(Ct));
        await postgres.StopAsync(Ct);
        try
        {
            Assert.False(await store.IsReadyAsync(Ct));
            await Assert.ThrowsAnyAsync<Exception>(async () => await store.ApplyOneAsync(cmids[10]));
            Assert.False(await store.IsReadyAsync(Ct));
        }
        finally
        {
            await postgres.StartAsync(Ct);
        }

        Assert.True(await WaitUntilReadyAsync(store), $"not ready within {ReadyAgainWithin} of PostgreSQL starting again");
        Assert.Equal(11, await store.ApplyOneAsync(cmids[10]));
        Assert.Equal(11, await store.ApplyOneAsync(cmids[0]));
        Assert.Equal(12, await store.ApplyOneAsync(cmids[11]));
    }

    [Fact]
    public async Task A_restart_mid_load_invents_no_count()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var nodes = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => OpenAsync(db)));
        try
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            var answered = new System.Collections.Concurrent.ConcurrentBag<(string Machine, int Count)>();
            int failures = 0;
            int sent = 0;
            var load = Enumerable.Range(0, 6).Select(worker => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested && Volatile.Read(ref sent) < 1800)
                {
                    string machine = $"m-{Interlocked.Increment(ref sent)}";
                    try
                    {
                        var outcome = await nodes[worker % 2].ApplyAsync(
                            ProductGroup.Windows, [For(Guid.NewGuid(), nPolicy: 1000, machine: machine)], T0, stop.Token);
                        answered.Add((machine, outcome[0].CurrentCount));
                    }
                    catch (Exception) when (!stop.IsCancellationRequested)
                    {
                        Interlocked.Increment(ref failures);
                        await Task.Delay(20, CancellationToken.None);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }, CancellationToken.None)).ToArray();

            await WaitForAsync(() => answered.Count >= 30);
            await postgres.RestartAsync(Ct);
            int before = answered.Count;
            Assert.True(await WaitUntilReadyAsync(nodes[0]), $"not ready within {ReadyAgainWithin} of PostgreSQL starting again");
            await WaitForAsync(() => answered.Count >= before + 30);
            await stop.CancelAsync();
            await Task.WhenAll(load);

            Assert.True(failures > 0, "the restart should have failed some requests");
            var history = await HistoryInOrderAsync(db);
            var recorded = history.ToDictionary(h => h.Machine, h => h.Count!.Value);

            // Every count a client was told was committed, and no count was handed out twice (capacity 2000 is never reached).
            Assert.All(answered, a => Assert.Equal(recorded[a.Machine], a.Count));
            Assert.Equal(answered.Count, answered.Select(a => a.Count).Distinct().Count());
            Assert.Equal(Replay(history, T0), history.Select(h => h.Count!.Value));
        }
        finally
        {
            foreach (var node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    private static async Task<bool> WaitUntilReadyAsync(IActivationStore store)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < ReadyAgainWithin)
        {
            if (await store.IsReadyAsync(Ct))
            {
                return true;
            }

            await Task.Delay(100, Ct);
        }

        return false;
    }

    /// <summary>Waits for progress of the background load (bounded so a broken store fails rather than hangs).</summary>
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
