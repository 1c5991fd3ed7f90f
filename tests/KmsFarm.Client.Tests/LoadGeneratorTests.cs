using KmsFarm.Client.Load;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;

namespace KmsFarm.Client.Tests;

public sealed class LoadGeneratorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static LoadSettings Settings(IReadOnlyList<HostEndpoint> hosts, int clients = 40, bool newConnection = false, double renewalRatio = 0.3) =>
        new(hosts, clients, TimeSpan.FromSeconds(2), Concurrency: 3, LoadMix.Default, renewalRatio, Protocol: null, newConnection, Seed: 11,
            new KmsClientOptions { ConnectTimeout = TimeSpan.FromSeconds(5), ReceiveTimeout = TimeSpan.FromSeconds(10) });

    private static async Task<LoadReport> RunAsync(LoadSettings settings, TimeProvider? time = null) =>
        await Generator(settings, time).RunAsync(Ct);

    private static LoadGenerator Generator(LoadSettings settings, TimeProvider? time = null)
    {
        var mix = ProductMix.Create(settings.Mix, ClientCatalog.Default.FindBySkuId);
        return new LoadGenerator(settings, new MachinePopulation(settings.Clients, settings.Seed, mix), time);
    }

    private static void AssertTotalsAddUp(LoadReport report)
    {
        Assert.True(report.Requests > 0);
        Assert.Equal(report.Requests, report.Activations + report.Refused + report.FailedRequests);
        Assert.Equal(report.Activations, report.FirstActivations + report.Renewals);
        Assert.Equal(report.Activations + report.Refused, report.Ndr32Requests + report.Ndr64Requests);
        Assert.Equal(report.Activations, report.Hosts.Sum(h => h.Activations));
        Assert.Equal(report.Activations, report.Latency.Count);
        Assert.InRange(report.MachinesActivated, 1, report.Clients);
        Assert.Equal(report.MachinesActivated, report.FirstActivations);
    }

    [Fact]
    public async Task Runs_against_two_hosts_without_errors_and_reports_their_counts()
    {
        await using var a = new TestKmsServer();
        await using var b = new TestKmsServer();

        var report = await RunAsync(Settings([HostEndpoint.Parse(a.HostPort), HostEndpoint.Parse(b.HostPort)]));

        AssertTotalsAddUp(report);
        Assert.Equal(0, report.TotalErrors);
        Assert.Equal(0, report.FailedRequests);
        Assert.All(report.Hosts, h => Assert.True(h.Activations > 0));
        Assert.Equal(a.Calls.Count + b.Calls.Count, report.Activations + report.Hosts.Sum(h => h.Counts.Count(c => c.Count is not null)));

        // Machine i goes to host i mod 2: every CMID a host saw belongs to machines of its parity.
        var population = new MachinePopulation(40, 11, ProductMix.Create(LoadMix.Default, ClientCatalog.Default.FindBySkuId));
        var hostOf = Enumerable.Range(0, 40).ToDictionary(i => population[i].ClientMachineId, i => i % 2);
        Assert.All(a.Calls, c => Assert.Equal(0, hostOf[c.Cmid]));
        Assert.All(b.Calls, c => Assert.Equal(1, hostOf[c.Cmid]));

        foreach (var host in report.Hosts)
        {
            Assert.Contains(host.Counts, c => c.Group == ProductGroup.Windows);
            Assert.All(host.Counts.Where(c => c.Error is null), c => Assert.Equal(TestKmsServer.Count, c.Count));
        }
    }

    [Fact]
    public async Task A_paced_run_sends_no_more_requests_than_its_slots_and_every_one_is_answered()
    {
        await using var server = new TestKmsServer();
        // 2 s at 25/s: slots due at 0, 40 ms, …, 1960 ms; a slot due at or after the end is never taken.
        var settings = Settings([HostEndpoint.Parse(server.HostPort)]) with { Rate = 25 };

        var report = await RunAsync(settings);

        AssertTotalsAddUp(report);
        Assert.Equal(0, report.TotalErrors);
        Assert.InRange(report.Requests, 1, 50);
        Assert.Equal(25, report.TargetRate);
        int countQueries = report.Hosts.Single().Counts.Count(c => c.Count is not null);
        Assert.Equal(report.Requests + countQueries, server.Calls.Count);
    }

    [Fact]
    public async Task A_new_connection_per_activation_opens_one_connection_per_request()
    {
        await using var server = new TestKmsServer();

        var report = await RunAsync(Settings([HostEndpoint.Parse(server.HostPort)], newConnection: true));

        AssertTotalsAddUp(report);
        Assert.Equal(0, report.TotalErrors);
        Assert.Equal(0, report.Ndr64Requests);
        int countQueries = report.Hosts.Single().Counts.Count(c => c.Count is not null);
        Assert.Equal(report.Requests + countQueries, server.ConnectionCount);
    }

    [Fact]
    public async Task Fails_over_to_the_next_host_when_one_refuses_connections()
    {
        await using var live = new TestKmsServer();
        int deadPort;
        await using (var dead = new TestKmsServer())
        {
            deadPort = dead.Port;
        }

        // The backoff's clock stands still: once the dead host has failed it is never due again in this run.
        var report = await RunAsync(Settings([new HostEndpoint("127.0.0.1", deadPort), HostEndpoint.Parse(live.HostPort)]), new ManualTimeProvider());

        AssertTotalsAddUp(report);
        Assert.Equal(0, report.FailedRequests);
        Assert.Equal(report.Errors[LoadErrorKind.Connect], report.Failovers);
        Assert.Equal(0, report.Hosts[0].Activations);
        Assert.Equal(report.Activations, report.Hosts[1].Activations);
        Assert.All(report.Hosts[0].Counts, c => Assert.NotNull(c.Error));

        // Only requests that went out before the first refusal was known met the dead host (at most one per worker); every
        // later one went straight to the live host, not once per request of every even machine.
        Assert.InRange(report.Errors[LoadErrorKind.Connect], 1, 3);

        // Machine i prefers host i mod 2, so every even machine that sent a request moved to host 1, and no odd one did.
        Assert.InRange(report.MachinesFailedOver, 1, report.Clients / 2);
    }

    [Fact]
    public async Task Sticks_to_the_host_that_answered_and_tries_a_frozen_host_again_only_after_its_backoff()
    {
        await using var frozen = new FrozenKmsHost();
        await using var live = new TestKmsServer();
        var time = new ManualTimeProvider();
        var timeout = TimeSpan.FromSeconds(1);

        // Many machines, so new ones (with no host kept yet, half of them preferring the frozen host) keep coming; the run
        // is ended by the test.
        var settings = Settings([frozen.Endpoint, HostEndpoint.Parse(live.HostPort)], clients: 20_000) with
        {
            Duration = TimeSpan.FromMinutes(10),
            ClientOptions = new KmsClientOptions { ConnectTimeout = timeout, ReceiveTimeout = timeout },
        };
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var generator = Generator(settings, time);
        var run = generator.RunAsync(stop.Token);

        // The first requests to meet the frozen host each wait for its timeout (at most one per worker: those that went out
        // before the first timeout was known); then it backs off.
        await WaitUntilAsync(() => generator.GetProgress().Errors >= 1 && live.Calls.Count >= 100);
        int first = frozen.Accepted;
        Assert.InRange(first, 1, settings.Concurrency);

        // The backoff's clock stands still: however many new machines prefer the frozen host, none tries it.
        int calls = live.Calls.Count;
        await WaitUntilAsync(() => live.Calls.Count >= calls + 300);
        Assert.Equal(first, frozen.Accepted);

        // Once its backoff has passed, one request probes it (and times out) while the others keep to the live host; after
        // the failed probe it backs off again.
        time.Advance(HostBackoff.DefaultMaxDelay);
        await WaitUntilAsync(() => frozen.Accepted > first);
        calls = live.Calls.Count;
        await WaitUntilAsync(() => live.Calls.Count >= calls + 300 && generator.GetProgress().Errors >= first + 1);
        Assert.Equal(first + 1, frozen.Accepted);

        await stop.CancelAsync();
        var report = await run;
        Assert.Equal(0, report.FailedRequests);
        Assert.Equal(0, report.Hosts[0].Activations);
        Assert.Equal(first + 1, report.Errors[LoadErrorKind.Timeout]);
        Assert.Equal(report.Errors[LoadErrorKind.Timeout], report.Failovers);
    }

    /// <summary>Polls for up to 60 s: a bound on a loaded machine, not a measurement.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), "the condition did not hold within 60 s");
            await Task.Delay(20, Ct);
        }
    }

    [Fact]
    public async Task A_kept_connection_the_host_closed_since_is_replaced_without_an_error()
    {
        // The host closes every connection after one answer, as a node does at its connection lifetime or idle timeout.
        await using var server = new TestKmsServer(TestServerMode.CloseAfterAnswer);

        var report = await RunAsync(Settings([HostEndpoint.Parse(server.HostPort)]));

        AssertTotalsAddUp(report);
        Assert.Equal(0, report.TotalErrors);
        Assert.Equal(0, report.FailedRequests);
        Assert.True(report.Requests > 3);
    }

    [Fact]
    public async Task Keeps_every_acknowledged_activation_with_the_count_and_host_that_answered_it()
    {
        int deadPort;
        await using (var dead = new TestKmsServer())
        {
            deadPort = dead.Port;
        }

        await using var live = new TestKmsServer();
        var settings = Settings([new HostEndpoint("127.0.0.1", deadPort), HostEndpoint.Parse(live.HostPort)]) with { KeepAcknowledged = true };
        var mix = ProductMix.Create(settings.Mix, ClientCatalog.Default.FindBySkuId);
        var population = new MachinePopulation(settings.Clients, settings.Seed, mix);
        var generator = new LoadGenerator(settings, population);

        var report = await generator.RunAsync(Ct);

        Assert.Equal(report.Activations, generator.Acknowledged.Count);
        var machines = Enumerable.Range(0, population.Count).Select(i => population[i]).ToDictionary(m => m.ClientMachineId);
        Assert.All(generator.Acknowledged, a =>
        {
            Assert.Equal(machines[a.ClientMachineId].Product.Group, a.Group);
            Assert.Equal(TestKmsServer.Count, a.Count);
            Assert.Equal(1, a.Host);
        });
        Assert.Empty(new LoadGenerator(settings with { KeepAcknowledged = false }, population).Acknowledged);
    }

    [Fact]
    public async Task Refusals_are_counted_by_hresult()
    {
        await using var server = new TestKmsServer(refuseWith: 0xC004F042);

        var report = await RunAsync(Settings([HostEndpoint.Parse(server.HostPort)], clients: 10));

        Assert.Equal(report.Requests, report.Refused);
        Assert.Equal(0, report.Activations);
        Assert.Equal(report.Refused, report.Errors[LoadErrorKind.Refused]);
        Assert.Equal(report.Refused, report.RefusedByHResult["0xC004F042"]);
        Assert.All(report.Hosts.Single().Counts, c => Assert.NotNull(c.Error));
    }

    [Fact]
    public async Task A_forced_protocol_is_used_for_every_product_and_cancellation_ends_the_run_cleanly()
    {
        await using var server = new TestKmsServer();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var settings = Settings([HostEndpoint.Parse(server.HostPort)]) with { Protocol = Protocol.Kms.KmsProtocolVersion.V5, Duration = TimeSpan.FromMinutes(10) };
        var generator = new LoadGenerator(settings, new MachinePopulation(settings.Clients, settings.Seed, ProductMix.Create(settings.Mix, ClientCatalog.Default.FindBySkuId)));

        var run = generator.RunAsync(cancel.Token);
        while (generator.GetProgress().Activations < 20)
        {
            await Task.Delay(10, Ct);
        }

        await cancel.CancelAsync();
        var report = await run;

        AssertTotalsAddUp(report);
        Assert.Equal(0, report.TotalErrors);
        Assert.All(server.Calls, c => Assert.Equal(Protocol.Kms.KmsProtocolVersion.V5, c.Version));
        Assert.All(report.Hosts, h => Assert.Empty(h.Counts));
    }
}
