using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace KmsFarm.Grains.Tests;

/// <summary>The silo that hosts a group stops or dies in the middle of load. Callers on the other nodes see each call
/// answered with a count or failed, never a wrong count; the history continues without gap or repeat; the group serves
/// again from a survivor, which loads what was committed. Each test prints how long the group was away.</summary>
[Trait("Category", "Cluster")]
public sealed class FailoverTests
{
    private const ProductGroup Group = ProductGroup.Windows;

    /// <summary>N_Policy 1000: capacity 2000, far above what a test commits, so every new CMID gets the next count and a
    /// gap or a repeat shows.</summary>
    private const int NPolicy = 1000;

    /// <summary>Six streams of calls, one every 40 ms each (about 450 attempts/s in all), whether earlier calls were answered
    /// or not: clients keep arriving while the group is away.</summary>
    private const int Streams = 6;

    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(40);

    /// <summary>Attempts answered before the disruption, and by the successor after it.</summary>
    private const int AnsweredBefore = 150;

    private const int AnsweredAfter = 150;

    /// <summary>Generous: a killed silo is declared dead in about 6-10 s with the node's settings (docs/ARCHITECTURE.md).</summary>
    private static readonly TimeSpan ServesAgainWithin = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>The stopping silo's activation commits what it had queued before it goes. A caller on another node may
    /// still not hear the answer (SiloUnavailableException: the survivors drop their pending calls to a silo that
    /// announced its shutdown while its grains were still draining); its row is in the history all the same, and the
    /// client's retry is a renewal. The test prints how many such rows there were.</summary>
    [Fact]
    public async Task A_graceful_stop_of_the_hosting_silo_mid_load_tells_no_wrong_count_and_the_group_serves_from_a_survivor()
    {
        var run = await RunAsync((farm, host) => farm.Cluster.StopSiloAsync(host));
        AssertServedAgainWithinBounds(run);

        // The stopping silo hands its group over before it shuts down: every call is answered, every committed row told.
        Assert.Empty(run.Failed);
        Assert.Equal(run.Rows.Length, run.Told.Length);
    }

    /// <summary>In process, <c>KillSiloAsync</c> is a non-graceful stop, not a crash: the silo drops its queue (its callers
    /// get exceptions) but still writes itself Dead into the membership table, gossips it and unregisters its activations,
    /// so the others move the group at once. How long the survivors' probes take to find a silo that died without a word
    /// is for the process-level tests (KmsFarm.Storage.Postgres.Tests NodeKillTests).</summary>
    [Fact]
    public async Task A_kill_of_the_hosting_silo_mid_load_tells_no_wrong_count_and_the_group_serves_again_within_bounds()
    {
        var run = await RunAsync((farm, host) => farm.Cluster.KillSiloAsync(host));
        AssertServedAgainWithinBounds(run);
    }

    private static void AssertServedAgainWithinBounds(Measured run) =>
        Assert.True(run.ServedAgain <= ServesAgainWithin,
            $"the group answered a new call {run.ServedAgain.TotalSeconds:F1} s after the disruption began (bound {ServesAgainWithin.TotalSeconds} s)");

    private static async Task<Measured> RunAsync(Func<GrainTestCluster, InProcessSiloHandle, Task> disrupt)
    {
        await using var farm = await GrainTestCluster.StartAsync(3, cancellationToken: Ct);
        var store = farm.Store;

        // Place the group, then load it from the two other nodes (the disrupted node's own front end goes with it).
        var placing = Attempts.NewBatch(1, NPolicy);
        var first = await GrainTestCluster.LedgersOf(farm.Silos[0]).ApplyAsync(Group, placing, Ct);
        Assert.Equal(1, first.Single().CurrentCount);
        var host = await farm.HostOfAsync(Group);
        var survivors = farm.Silos.Where(s => s != host).ToArray();
        var membership = survivors[0].ServiceProvider.GetRequiredService<IClusterMembershipService>();

        var load = new LedgerLoad();
        using var stop = new CancellationTokenSource();
        var running = load.RunOpenAsync(
            survivors.Select(GrainTestCluster.LedgersOf).ToArray(), Streams, Group, random => Attempts.NewBatch(random.Next(1, 6), NPolicy),
            Interval, stop.Token);
        TimeSpan disrupted, disruptionReturned, declaredDead;
        try
        {
            await load.WaitForAnswersAsync(AnsweredBefore, Patience, running, farm.Log);
            disrupted = load.Now;
            await disrupt(farm, host).WaitAsync(Patience, Ct);
            disruptionReturned = load.Now;

            // When a survivor sees the silo dead, and when the group has answered enough calls after that.
            while (membership.CurrentSnapshot.GetSiloStatus(host.SiloAddress) != SiloStatus.Dead)
            {
                Assert.True(load.Now - disrupted < Patience, $"{host.Name} was not declared dead within {Patience}\n{farm.Log.Tail(20)}");
                await Task.Delay(20, Ct);
            }

            declaredDead = load.Now;
            await load.WaitForAnswersAsync(load.AnsweredAttempts + AnsweredAfter, Patience, running, farm.Log);
        }
        finally
        {
            await stop.CancelAsync();
            await running.WaitAsync(Patience, CancellationToken.None);
        }

        // Every call was answered with counts or failed; no count was told twice, and each told count is its CMID's row.
        var rows = History.Of(store.History, Group);
        var told = load.Told().Append((Cmid: placing[0].ClientMachineId, Count: 1)).ToArray();
        Assert.Equal(told.Length, told.Select(t => t.Count).Distinct().Count());
        History.AssertToldCountsAreInHistory(rows, told);

        // The history has no gap and no repeat (every attempt a new CMID below capacity) and is one serialized order.
        Assert.Equal(Enumerable.Range(1, rows.Length), rows.Select(r => r.CurrentCount!.Value));
        History.AssertReplaysConsistently(rows, Group);

        // One activation again, on a survivor, which carries on from the history.
        var newHost = await farm.HostOfAsync(Group);
        Assert.NotEqual(host.SiloAddress, newHost.SiloAddress);
        var next = await GrainTestCluster.LedgersOf(farm.Silos[^1]).ApplyAsync(Group, Attempts.NewBatch(1, NPolicy), Ct);
        Assert.Equal(rows.Length + 1, next.Single().CurrentCount);

        var calls = load.Calls;
        var measured = new Measured(
            rows, told, [.. calls.Where(c => !c.Succeeded).Select(c => c.Error!.GetType().Name + ": " + c.Error.Message)],
            DisruptionTook: disruptionReturned - disrupted,
            DeclaredDead: declaredDead - disrupted,
            ServedAgain: load.FirstAnswerAfter(disruptionReturned) is { } answer ? disruptionReturned - disrupted + answer : TimeSpan.MaxValue,
            LongestSilence: load.LongestSilenceAfter(disrupted));
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"from the start of the disruption: its call returned after {measured.DisruptionTook.TotalMilliseconds:F0} ms, " +
            $"the silo was seen dead after {measured.DeclaredDead.TotalMilliseconds:F0} ms, the first call started after it returned " +
            $"was answered after {measured.ServedAgain.TotalMilliseconds:F0} ms; longest time without any answer " +
            $"{measured.LongestSilence.TotalMilliseconds:F0} ms. {calls.Count} calls, {calls.Count(c => !c.Succeeded)} failed" +
            string.Concat(calls.Where(c => !c.Succeeded).GroupBy(c => c.Error!.GetType().Name).Select(g => $", {g.Count()} with {g.Key}")) +
            $"; {rows.Length} rows committed, {rows.Length - told.Length} of them never told.");
        return measured;
    }

    private sealed record Measured(
        ActivationRecord[] Rows, (Guid Cmid, int Count)[] Told, string[] Failed, TimeSpan DisruptionTook, TimeSpan DeclaredDead, TimeSpan ServedAgain,
        TimeSpan LongestSilence);
}
