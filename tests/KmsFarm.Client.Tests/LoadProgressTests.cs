using System.Globalization;
using KmsFarm.Client.Cli;
using KmsFarm.Client.Load;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Client.Tests;

/// <summary>The load generator's live progress (rate, p99, errors, counts per group) and the status command's endpoint.</summary>
public sealed class LoadProgressTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Progress_carries_per_group_activations_last_counts_and_an_interval_p99()
    {
        await using var server = new TestKmsServer();
        var settings = new LoadSettings([HostEndpoint.Parse(server.HostPort)], 60, TimeSpan.FromSeconds(1.5), Concurrency: 2, LoadMix.Default, 0.5,
            Protocol: null, NewConnectionPerActivation: false, Seed: 3,
            new KmsClientOptions { ConnectTimeout = TimeSpan.FromSeconds(5), ReceiveTimeout = TimeSpan.FromSeconds(10) });
        var generator = new LoadGenerator(settings, new MachinePopulation(60, 3, ProductMix.Create(LoadMix.Default, ClientCatalog.Default.FindBySkuId)));
        var start = generator.GetProgress();
        Assert.Equal([ProductGroup.Windows, ProductGroup.Office2010, ProductGroup.Office2013Plus], start.Groups.Select(g => g.Group));
        Assert.All(start.Groups, g => Assert.Null(g.LastCount));

        var report = await generator.RunAsync(Ct);
        var end = generator.GetProgress();

        Assert.Equal(report.Activations, end.Groups.Sum(g => g.Activations));
        Assert.Equal(report.Activations, end.Activations);
        var windows = end.Groups.Single(g => g.Group == ProductGroup.Windows);
        Assert.True(windows.Activations > 0);
        Assert.NotNull(windows.LastCount);
        double p99 = Assert.NotNull(end.P99MsSince(start));
        // The live figure is a bucket bound within 5 % above the exact p99 of the same samples.
        Assert.InRange(p99, report.Latency.P99Ms * 0.99, report.Latency.P99Ms * 1.06 + 0.001);
        Assert.Null(end.P99MsSince(end));

        string line = LoadProgressDisplay.Line(end, start);
        Assert.Matches(@"^\[ *\d+s\] requests +\d+ +activations +\d+ +\d+/s  p99 [\d.]+ ms  errors 0 \(refused 0\)  Windows \d+ \(count \d+\)", line);
    }

    [Theory]
    [InlineData("127.0.0.1", "http://127.0.0.1:8688/")]
    [InlineData("127.0.0.1:9000", "http://127.0.0.1:9000/")]
    [InlineData("[::1]:8689", "http://[::1]:8689/")]
    [InlineData("node-a.lab", "http://node-a.lab:8688/")]
    [InlineData("http://node-a.lab", "http://node-a.lab/")]
    [InlineData("https://node-a.lab:8443/api/status", "https://node-a.lab:8443/")]
    public void Status_host_is_a_nodes_http_endpoint(string text, string expected)
    {
        Assert.True(StatusCommand.TryParseBase(text, out var uri));
        Assert.Equal(expected, uri.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("ftp://x")]
    [InlineData("http://")]
    public void Status_host_rejects_what_is_no_http_endpoint(string text) => Assert.False(StatusCommand.TryParseBase(text, out _));

    [Fact]
    public async Task Status_without_a_node_fails_with_the_network_exit_code()
    {
        int port = TestKit.LoopbackPorts.Free();
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);
        var parse = ClientCli.CreateRootCommand(ClientCatalog.Default).Parse(["status", "--host", $"127.0.0.1:{port}", "--timeout", "2"]);
        int exit = await parse.InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error }, Ct);
        Assert.Equal(ExitCodes.NetworkError, exit);
        Assert.Contains($"127.0.0.1:{port}", error.ToString(), StringComparison.Ordinal);
    }
}
