using System.Collections.Concurrent;
using System.Diagnostics;
using KmsFarm.Client;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;
using Npgsql;
using static KmsFarm.Storage.Postgres.Tests.Attempts;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>A node is answered only after its commit: a node process killed with SIGKILL in the middle of load loses
/// nothing any client was told, and the next node carries on from the history.</summary>
[Trait("Category", "Cluster")]
public sealed class NodeKillTests(PostgresFixture postgres)
{
    private const string KilledNode = "killed-node";

    private const int Workers = 4;

    /// <summary>Answers seen before the kill: several committed batches, and usually still below the Windows cap (50) so
    /// the successor's count says something.</summary>
    private const int AnsweredBeforeKill = 30;

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_node_process_killed_with_SIGKILL_mid_load_keeps_every_answered_activation_in_the_history()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var answered = new ConcurrentDictionary<Guid, uint>();
        var errors = new ConcurrentQueue<Exception>();
        int killed = 0;
        Task[] load = [];
        await using (var node = await NodeProcess.StartAsync("postgres:" + db, KilledNode, [], Ct))
        {
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            try
            {
                load = Enumerable.Range(0, Workers)
                    .Select(w => Task.Run(() => RunWorkerAsync(node.KmsEndPoint.Port, w, answered, errors, () => Volatile.Read(ref killed) != 0, stop.Token)))
                    .ToArray();

                var clock = Stopwatch.StartNew();
                while (answered.Count < AnsweredBeforeKill)
                {
                    Assert.True(clock.Elapsed < Patience && load.All(t => !t.IsCompleted),
                        $"the load made no progress: {answered.Count} answered; {load.FirstOrDefault(t => t.IsFaulted)?.Exception}; " +
                        $"errors: {string.Join("; ", errors.Take(5))}\n{node.Output}");
                    await Task.Delay(10, Ct);
                }

                // Workers are mid-request: kill without warning, then let each see its connection fail.
                Volatile.Write(ref killed, 1);
                await node.KillAsync(Ct);
                Assert.True(node.HasExited);
                Assert.Equal(128 + 9, node.ExitCode); // terminated by signal 9 (SIGKILL)
                await Task.WhenAll(load).WaitAsync(Patience, Ct);
            }
            finally
            {
                await stop.CancelAsync();
                await Task.WhenAll(load.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
            }
        }

        Assert.True(answered.Count >= AnsweredBeforeKill, $"only {answered.Count} requests were answered before the kill");

        // Every CMID a client was told about is in the history, from that node, with the very count the client saw.
        var history = await ReadHistoryAsync(db);
        var missing = answered.Keys.Where(cmid => !history.ContainsKey(cmid)).ToArray();
        Assert.True(missing.Length == 0, $"{missing.Length} of {answered.Count} answered activations are not in the history");
        Assert.All(answered, a =>
        {
            var row = history[a.Key];
            Assert.Equal(KilledNode, row.Node);
            Assert.NotNull(row.Count);
            Assert.Equal((int)a.Value, row.Count);
        });

        // The history may also hold activations committed in the last instant whose answer never arrived; the counts in
        // it are still one serialized order, which is what the next node continues from.
        var ordered = await HistoryInOrderAsync(db);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"answered {answered.Count}, in history {ordered.Count} (committed, answer lost: {ordered.Count - answered.Count}), " +
            $"client errors {errors.Count}: {string.Join(", ", errors.Select(e => e.GetType().Name).Distinct())}");
        Assert.Equal(Replay(ordered, T0), ordered.Select(h => h.Count!.Value));
        var next = Guid.NewGuid();
        int expected = Replay([.. ordered, ("next", next, null, (int)FarmTests.Windows.RequiredClientCount)], T0)[^1];

        await using var successor = await FarmNode.StartAsync(db, "successor", Ct);
        var result = await successor.ActivateAsync(FarmTests.Windows, next, "next", Ct);
        Assert.True(result.Succeeded, $"0x{result.HResult:X8}");
        Assert.Equal((uint)expected, result.Response!.CurrentCount);

        // The killed node said nothing on its way out; the membership shows it as Dead once the survivors' probes fail.
        var wait = Stopwatch.StartNew();
        while ((await successor.ListNodesAsync(Ct)).FirstOrDefault(n => n.Name == KilledNode) is not { Status: "Dead" })
        {
            Assert.True(wait.Elapsed < Patience, "the killed node was never listed as dead");
            await Task.Delay(100, Ct);
        }
    }

    /// <summary>One simulated client population: distinct CMIDs, several requests per connection, a new connection after
    /// an error. Returns once the node was killed and this worker has seen its connection fail.</summary>
    private static async Task RunWorkerAsync(
        int port, int worker, ConcurrentDictionary<Guid, uint> answered, ConcurrentQueue<Exception> errors, Func<bool> killed,
        CancellationToken cancellationToken)
    {
        var options = new KmsClientOptions { ConnectTimeout = TimeSpan.FromSeconds(10), ReceiveTimeout = TimeSpan.FromSeconds(30) };
        KmsClientConnection? connection = null;
        int sent = 0;
        try
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    connection ??= await KmsClientConnection.ConnectAsync("127.0.0.1", port, options, cancellationToken);
                    var cmid = Guid.NewGuid();
                    var request = KmsRequestFactory.Create(FarmTests.Windows, cmid, $"w{worker}-{sent++}", KmsProtocolVersion.V6, DateTime.UtcNow);
                    var result = await connection.ActivateAsync(KmsProtocolVersion.V6, request, cancellationToken);
                    if (result.Succeeded)
                    {
                        answered[cmid] = result.Response!.CurrentCount;
                    }

                    // Cycle connections now and then, as a population of machines does.
                    if (connection.RequestCount >= 20)
                    {
                        await connection.DisposeAsync();
                        connection = null;
                    }
                }
                catch (Exception ex) when ((ex is IOException or TimeoutException or KmsProtocolException) && !cancellationToken.IsCancellationRequested)
                {
                    errors.Enqueue(ex);
                    if (connection is not null)
                    {
                        await connection.DisposeAsync();
                        connection = null;
                    }

                    if (killed())
                    {
                        return;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static async Task<Dictionary<Guid, (string Node, int? Count)>> ReadHistoryAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(Unpooled(connectionString));
        await connection.OpenAsync(Ct);
        await using var command = new NpgsqlCommand("SELECT cmid, node, current_count FROM activation_history WHERE result = 0", connection);
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new Dictionary<Guid, (string, int?)>();
        while (await reader.ReadAsync(Ct))
        {
            rows.Add(reader.GetGuid(0), (reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetInt32(2)));
        }

        return rows;
    }
}
