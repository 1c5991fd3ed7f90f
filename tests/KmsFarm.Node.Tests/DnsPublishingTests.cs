using System.CommandLine;
using System.Net;
using System.Text.Json;
using KmsFarm.Client;
using KmsFarm.Client.Cli;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Node.Tests;

/// <summary>A real node publishes itself in a real BIND (checked with dig), refreshes, withdraws on a graceful stop, and
/// reports a refused update without stopping.</summary>
public sealed class DnsPublishingTests(BindFixture bind) : IClassFixture<BindFixture>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private BindServer Bind => bind.Server;

    [Fact]
    public async Task Publishes_srv_and_address_records_once_listening_and_a_graceful_stop_removes_only_its_own()
    {
        string domain = BindFixture.NewDomain();
        string service = "_vlmcs._tcp." + domain;
        await Bind.NsUpdateAsync($"update add {service} 600 SRV 0 0 1688 kms-other.{domain}.", Ct);
        var logs = new CapturingLoggerProvider();
        await using var node = await StartNodeAsync(logs, Bind.KeyFile, "--dns-publish", domain + ":5:20", "--dns-host-name", "kms-a");

        var published = await WaitForEventAsync(logs, KmsEventId.DnsPublished);

        int port = node.KmsEndPoint.Port;
        Assert.Equal([$"0 0 1688 kms-other.{domain}.", $"5 20 {port} kms-a.{domain}."], (await Bind.DigAsync(service, "SRV", Ct)).Order());
        Assert.Equal(["127.0.0.1"], await Bind.DigAsync("kms-a." + domain, "A", Ct));
        Assert.Equal(LogLevel.Information, published.Level);
        Assert.Equal("DnsPublished", published.EventId.Name);
        Assert.Contains($"domain {domain} on DNS server {Bind.Server} (NOERROR)", published.Message, StringComparison.Ordinal);

        await node.StopAsync(Ct);

        Assert.Equal([$"0 0 1688 kms-other.{domain}."], await Bind.DigAsync(service, "SRV", Ct));
        Assert.Empty(await Bind.DigAsync("kms-a." + domain, "A", Ct));
        Assert.Contains(logs.Entries, e => e.EventId.Id == KmsEventId.DnsWithdrawn && e.Message.Contains(domain, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_wrong_key_is_refused_and_reported_with_event_12293_while_the_node_keeps_serving()
    {
        string domain = BindFixture.NewDomain();
        string wrongKey = Path.Combine(Bind.Directory, "wrong-" + Guid.NewGuid().ToString("N") + ".key");
        await BindServer.WriteKeyFileAsync(wrongKey, BindServer.KeyName, Ct);
        var logs = new CapturingLoggerProvider();
        await using var node = await StartNodeAsync(logs, wrongKey, "--dns-publish", domain);

        var failed = await WaitForEventAsync(logs, 12293);

        Assert.Equal(LogLevel.Warning, failed.Level);
        Assert.Equal("DnsPublishFailed", failed.EventId.Name);
        Assert.Contains($"domain {domain} on DNS server {Bind.Server} failed with NOTAUTH (TSIG BADSIG)", failed.Message, StringComparison.Ordinal);
        Assert.Contains("did not verify", failed.Message, StringComparison.Ordinal);
        Assert.Empty(await Bind.DigAsync("_vlmcs._tcp." + domain, "SRV", Ct));

        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/healthz/ready", Ct)).StatusCode);
        await using (var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, Ct))
        {
            var (hresult, _) = await client.RequestAsync(KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), ndr64: false, Ct);
            Assert.Equal(KmsHResults.Success, hresult);
        }

        await node.StopAsync(Ct);
        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id is KmsEventId.DnsWithdrawn or KmsEventId.DnsWithdrawFailed);
    }

    [Fact]
    public async Task Publishes_in_two_domains_under_the_machine_name_and_puts_a_removed_record_back_at_the_next_refresh()
    {
        string first = BindFixture.NewDomain("lab.test");
        string second = BindFixture.NewDomain("lab2.test");
        string host = Environment.MachineName.ToLowerInvariant();
        var logs = new CapturingLoggerProvider();
        await using var node = await StartNodeAsync(
            logs, Bind.KeyFile, "--dns-publish", first, "--dns-publish", second + ":3:7", "--dns-refresh-interval", "1", "--dns-ttl", "60");
        int port = node.KmsEndPoint.Port;

        await WaitForAsync(async () =>
            (await Bind.DigAsync("_vlmcs._tcp." + first, "SRV", Ct)).SequenceEqual([$"0 0 {port} {host}.{first}."])
            && (await Bind.DigAsync("_vlmcs._tcp." + second, "SRV", Ct)).SequenceEqual([$"3 7 {port} {host}.{second}."]));
        Assert.Equal(["127.0.0.1"], await Bind.DigAsync($"{host}.{second}", "A", Ct));
        Assert.Contains(logs.Entries, e => e.EventId.Id == 12294 && e.Message.Contains("domain " + first, StringComparison.Ordinal));
        Assert.Contains(logs.Entries, e => e.EventId.Id == 12294 && e.Message.Contains("domain " + second, StringComparison.Ordinal));

        // Someone removes the record by hand: the next refresh (1 s) publishes it again, with the configured TTL.
        var deletedAt = DateTimeOffset.UtcNow;
        await Bind.NsUpdateAsync($"update delete _vlmcs._tcp.{first} SRV", Ct);
        // Gone, unless a refresh (every second) already put it back, as one may on a loaded machine: then that refresh's
        // log line (written once the update is answered) must follow.
        if ((await Bind.DigAsync("_vlmcs._tcp." + first, "SRV", Ct)).Count != 0)
        {
            await WaitForAsync(() => Task.FromResult(logs.Entries.Any(e =>
                e.EventId.Id == 12294 && e.Time > deletedAt && e.Message.Contains("domain " + first, StringComparison.Ordinal))));
        }

        await WaitForAsync(async () => (await Bind.DigAsync("_vlmcs._tcp." + first, "SRV", Ct)).Count == 1);
        var answer = await ExternalTool.RunAsync(
            ExternalTool.Find("dig")!, ["@127.0.0.1", "-p", Bind.Port.ToString(), "+noall", "+answer", "_vlmcs._tcp." + first, "SRV"], cancellationToken: Ct);
        Assert.Matches(@"\s60\s+IN\s+SRV\s", answer.Output);

        await node.StopAsync(Ct);
        Assert.Empty(await Bind.DigAsync("_vlmcs._tcp." + first, "SRV", Ct));
        Assert.Empty(await Bind.DigAsync("_vlmcs._tcp." + second, "SRV", Ct));
    }

    [Fact]
    public async Task A_client_finds_the_published_nodes_through_dns_activates_at_the_preferred_one_and_moves_on_when_it_stops()
    {
        string domain = BindFixture.NewDomain();
        var logs = new CapturingLoggerProvider();
        await using var preferred = await StartNodeAsync(logs, Bind.KeyFile, "--dns-publish", domain + ":0:0", "--dns-host-name", "kms-a");
        await using var backup = await StartNodeAsync(logs, Bind.KeyFile, "--dns-publish", domain + ":10:0", "--dns-host-name", "kms-b");
        await WaitForAsync(async () => (await Bind.DigAsync("_vlmcs._tcp." + domain, "SRV", Ct)).Count == 2);
        string[] activate = ["activate", "--dns-domain", domain, "--dns-server", Bind.Server, "--product", "Windows 11 Pro", "--timeout", "2", "--json"];

        using (var json = JsonDocument.Parse(await RunClientAsync(activate)))
        {
            Assert.True(json.RootElement.GetProperty("success").GetBoolean(), json.RootElement.ToString());
            Assert.Equal($"kms-a.{domain}:{preferred.KmsEndPoint.Port}", json.RootElement.GetProperty("kmsHost").GetString());
        }

        // A graceful stop takes kms-a out of DNS: the next client finds only kms-b.
        await preferred.StopAsync(Ct);
        Assert.Equal([$"10 0 {backup.KmsEndPoint.Port} kms-b.{domain}."], await Bind.DigAsync("_vlmcs._tcp." + domain, "SRV", Ct));
        using (var json = JsonDocument.Parse(await RunClientAsync(activate)))
        {
            Assert.True(json.RootElement.GetProperty("success").GetBoolean(), json.RootElement.ToString());
            Assert.Equal($"kms-b.{domain}:{backup.KmsEndPoint.Port}", json.RootElement.GetProperty("kmsHost").GetString());
        }
    }

    private static async Task<string> RunClientAsync(string[] args)
    {
        var output = new StringWriter();
        int code = await ClientCli.CreateRootCommand(ClientCatalog.Default).Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = output }, Ct);
        Assert.True(code == ExitCodes.Success, output.ToString());
        return output.ToString();
    }

    private Task<InProcessNode> StartNodeAsync(CapturingLoggerProvider logs, string keyFile, params string[] args) =>
        InProcessNode.StartAsync(
            ["--dns-server", Bind.Server, "--dns-tsig-key-file", keyFile, .. args],
            configure: b => CaptureLogs(b, logs),
            cancellationToken: Ct);

    private static void CaptureLogs(WebApplicationBuilder builder, CapturingLoggerProvider logs)
    {
        builder.Logging.AddProvider(logs);
        builder.Logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace);
    }

    private static async Task<CapturingLoggerProvider.LogEntry> WaitForEventAsync(CapturingLoggerProvider logs, int eventId)
    {
        CapturingLoggerProvider.LogEntry? entry = null;
        await WaitForAsync(() => Task.FromResult((entry = logs.Entries.FirstOrDefault(e => e.EventId.Id == eventId)) is not null));
        return entry!;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(Patience);
        while (!await condition())
        {
            await Task.Delay(50, timeout.Token);
        }
    }
}
