using System.CommandLine;
using System.Text.Json;
using KmsFarm.Client.Cli;
using KmsFarm.TestKit;

namespace KmsFarm.Client.Tests;

/// <summary>activate and load with --dns-domain against a real BIND zone and loopback KMS servers: SRV order, fail-over
/// to the next target when one does not answer, and the kept host.</summary>
public sealed class DnsDiscoveryTests(BindFixture bind) : IClassFixture<BindFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private BindServer Bind => bind.Server;

    [Fact]
    public async Task Activate_finds_the_lowest_priority_host_through_srv_and_activates_there()
    {
        await using var first = new TestKmsServer();
        await using var second = new TestKmsServer();
        string domain = BindFixture.NewDomain();
        await PublishAsync(domain, ("kms-a", 0, 0, first.Port), ("kms-b", 10, 100, second.Port));

        var (code, output, error) = await RunAsync(
            "activate", "--dns-domain", domain, "--dns-server", Bind.Server, "--product", "Windows 10 Enterprise", "--json");

        Assert.Equal(ExitCodes.Success, code);
        Assert.Empty(error);
        using var json = JsonDocument.Parse(output);
        Assert.True(json.RootElement.GetProperty("success").GetBoolean());
        Assert.Equal(first.HostPort, json.RootElement.GetProperty("host").GetString());
        Assert.Equal($"kms-a.{domain}:{first.Port}", json.RootElement.GetProperty("kmsHost").GetString());
        Assert.Equal(domain, json.RootElement.GetProperty("dnsDomain").GetString());
        Assert.False(json.RootElement.TryGetProperty("unreachable", out _));
        Assert.Single(first.Calls);
        Assert.Empty(second.Calls);
    }

    [Fact]
    public async Task Activate_fails_over_past_targets_that_refuse_or_never_answer_to_the_next_srv_target()
    {
        int closedPort = LoopbackPorts.Free();
        await using var silent = new FrozenKmsHost();
        await using var server = new TestKmsServer();
        string domain = BindFixture.NewDomain();
        await PublishAsync(domain, ("kms-closed", 0, 0, closedPort), ("kms-silent", 1, 0, silent.Endpoint.Port), ("kms-good", 2, 0, server.Port));

        var (code, output, _) = await RunAsync(
            "activate", "--dns-domain", domain, "--dns-server", Bind.Server, "--product", "Windows 10 Professional", "--timeout", "1");

        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains($"Found 3 KMS host(s) in _vlmcs._tcp.{domain} on {Bind.Server}, in the order tried:", output, StringComparison.Ordinal);
        Assert.Contains($"kms-closed.{domain}:{closedPort} (127.0.0.1:{closedPort}) did not answer", output, StringComparison.Ordinal);
        Assert.Contains($"kms-silent.{domain}", output, StringComparison.Ordinal);
        Assert.Contains($"did not answer within 1 s while", output, StringComparison.Ordinal);
        Assert.Contains($"Connecting to kms-good.{domain}:{server.Port} (127.0.0.1:{server.Port})", output, StringComparison.Ordinal);
        Assert.Single(server.Calls);
    }

    [Fact]
    public async Task Activate_uses_the_cached_host_first_and_asks_dns_again_only_when_it_stops_answering()
    {
        var first = new TestKmsServer();
        int firstPort = first.Port;
        bool firstStopped = false;
        await using var second = new TestKmsServer();
        string domain = BindFixture.NewDomain();
        string cache = Path.Combine(Path.GetTempPath(), "kmsfarm-cache-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            await PublishAsync(domain, ("kms-a", 0, 0, first.Port), ("kms-b", 5, 0, second.Port));
            string[] args = ["activate", "--dns-domain", domain, "--dns-server", Bind.Server, "--dns-cache", cache, "--product", "Windows 10 Professional", "--json"];

            Assert.Equal(ExitCodes.Success, (await RunAsync(args)).ExitCode);
            Assert.Single(first.Calls);

            // DNS now prefers kms-b, but the client keeps the host that worked, as a Windows client does.
            await Bind.NsUpdateAsync($"update delete _vlmcs._tcp.{domain} SRV 0 0 {first.Port} kms-a.{domain}.\nupdate add _vlmcs._tcp.{domain} 300 SRV 9 0 {first.Port} kms-a.{domain}.", Ct);
            var (code, output, _) = await RunAsync(args);
            Assert.Equal(ExitCodes.Success, code);
            Assert.Equal(2, first.Calls.Count);
            Assert.Empty(second.Calls);

            // The kept host stops answering: the client discovers again, moves to kms-b and keeps that one.
            await first.DisposeAsync();
            firstStopped = true;
            (code, output, _) = await RunAsync(args);
            Assert.Equal(ExitCodes.Success, code);
            using var json = JsonDocument.Parse(output);
            Assert.Equal($"kms-b.{domain}:{second.Port}", json.RootElement.GetProperty("kmsHost").GetString());
            Assert.Contains($"kms-a.{domain}:{firstPort}", json.RootElement.GetProperty("unreachable")[0].GetString(), StringComparison.Ordinal);
            Assert.Single(second.Calls);
            Assert.Contains($"kms-b.{domain}:{second.Port}", await File.ReadAllTextAsync(cache, Ct), StringComparison.Ordinal);
        }
        finally
        {
            if (!firstStopped)
            {
                await first.DisposeAsync();
            }

            File.Delete(cache);
        }
    }

    [Fact]
    public async Task Activate_explains_a_domain_without_kms_hosts()
    {
        string domain = BindFixture.NewDomain();

        var (code, _, error) = await RunAsync("activate", "--dns-domain", domain, "--dns-server", Bind.Server, "--product", "Windows 10 Professional");

        Assert.Equal(ExitCodes.DiscoveryFailed, code);
        Assert.Contains($"No KMS host found: _vlmcs._tcp.{domain} on {Bind.Server}: NXDOMAIN", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Load_spreads_machines_over_a_priority_by_weight_and_each_keeps_the_host_that_answered()
    {
        int closedPort = LoopbackPorts.Free();
        await using var heavy = new TestKmsServer();
        await using var light = new TestKmsServer();
        string domain = BindFixture.NewDomain();
        await PublishAsync(domain, ("kms-down", 0, 0, closedPort), ("kms-heavy", 1, 75, heavy.Port), ("kms-light", 1, 25, light.Port));

        var (code, output, _) = await RunAsync(
            "load", "--dns-domain", domain, "--dns-server", Bind.Server, "--clients", "200", "--duration", "2s", "--concurrency", "4",
            "--renewal-ratio", "0.5", "--seed", "5", "--json");

        using var json = JsonDocument.Parse(output);
        var report = json.RootElement;
        long machines = report.GetProperty("machinesActivated").GetInt64();
        long failovers = report.GetProperty("failovers").GetInt64();
        Assert.Equal(ExitCodes.LoadErrors, code); // connect errors on kms-down are counted, though no request failed
        Assert.Equal(0, report.GetProperty("failedRequests").GetInt64());
        Assert.Equal(200, machines);
        Assert.True(report.GetProperty("renewals").GetInt64() > 0);
        // The dead priority-0 host is met by the first requests (four workers), then skipped while it backs off (one probe
        // after 1 s, the next after 2 s more): machines go straight to the next host and keep the host that answered.
        Assert.InRange(failovers, 1, 4 + 2);
        Assert.Equal(200, report.GetProperty("machinesFailedOver").GetInt64());
        // The count queries after the run (the last calls a host saw) may borrow another host's machine; leave them out.
        var hosts = report.GetProperty("hosts").EnumerateArray().ToDictionary(h => h.GetProperty("host").GetString()!);
        int Queries(TestKmsServer server) => hosts[server.HostPort].GetProperty("counts").EnumerateArray().Count(c => c.TryGetProperty("count", out _));
        var heavyMachines = heavy.Calls.SkipLast(Queries(heavy)).Select(c => c.Cmid).ToHashSet();
        var lightMachines = light.Calls.SkipLast(Queries(light)).Select(c => c.Cmid).ToHashSet();
        Assert.Empty(heavyMachines.Intersect(lightMachines));
        Assert.InRange(heavyMachines.Count / (double)machines, 0.62, 0.88); // weight 75 of 100
    }

    private async Task PublishAsync(string domain, params (string Name, int Priority, int Weight, int Port)[] hosts)
    {
        string service = "_vlmcs._tcp." + domain;
        await Bind.NsUpdateAsync(string.Join('\n', hosts.Select(h =>
            $"update add {service} 300 SRV {h.Priority} {h.Weight} {h.Port} {h.Name}.{domain}.\nupdate add {h.Name}.{domain} 300 A 127.0.0.1")), Ct);
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var config = new InvocationConfiguration { Output = output, Error = error };
        int code = await ClientCli.CreateRootCommand(ClientCatalog.Default).Parse(args).InvokeAsync(config, Ct);
        return (code, output.ToString(), error.ToString());
    }
}
