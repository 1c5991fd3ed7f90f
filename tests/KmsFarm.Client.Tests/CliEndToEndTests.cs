using System.CommandLine;
using System.Text.Json;
using KmsFarm.Client.Cli;

namespace KmsFarm.Client.Tests;

public sealed class CliEndToEndTests
{
    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var config = new InvocationConfiguration { Output = output, Error = error };
        int code = await ClientCli.CreateRootCommand(ClientCatalog.Default).Parse(args).InvokeAsync(config, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task Activate_prints_each_request_as_json()
    {
        await using var server = new TestKmsServer();
        var cmid = Guid.NewGuid();

        var (code, output, error) = await RunAsync(
            "activate", "--host", server.HostPort, "--product", "Windows 10 Enterprise", "--cmid", cmid.ToString(), "--machine", "LAB-PC-01", "--count", "2", "--json");

        Assert.Equal(ExitCodes.Success, code);
        Assert.Empty(error);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.True(root.GetProperty("success").GetBoolean());
        Assert.Equal(cmid, root.GetProperty("cmid").GetGuid());
        Assert.Equal("LAB-PC-01", root.GetProperty("machine").GetString());
        var requests = root.GetProperty("requests").EnumerateArray().ToArray();
        Assert.Equal(2, requests.Length);
        Assert.Equal("Ndr32", requests[0].GetProperty("transferSyntax").GetString());
        Assert.Equal("Ndr64", requests[1].GetProperty("transferSyntax").GetString());
        Assert.All(requests, r =>
        {
            Assert.Equal(TestKmsServer.Epid, r.GetProperty("epid").GetString());
            Assert.Equal("3A1C049600B60076", r.GetProperty("hwId").GetString());
            Assert.Equal(TestKmsServer.Count, r.GetProperty("count").GetUInt32());
            Assert.Equal(6, r.GetProperty("protocol").GetInt32());
        });
        Assert.All(server.Calls, c => Assert.Equal(cmid, c.Cmid));
    }

    [Fact]
    public async Task Activate_prints_text_with_epid_count_and_intervals()
    {
        await using var server = new TestKmsServer();

        var (code, output, _) = await RunAsync("activate", "--host", server.HostPort, "--product", "Office Professional Plus 2010");

        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("V4 over Ndr32", output, StringComparison.Ordinal);
        Assert.Contains(TestKmsServer.Epid, output, StringComparison.Ordinal);
        Assert.Contains("Current count:       50", output, StringComparison.Ordinal);
        Assert.Contains("Renewal interval:    10080 min", output, StringComparison.Ordinal);
        Assert.DoesNotContain("HwId", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_refusal_exits_non_zero_with_the_hresult_and_its_meaning()
    {
        await using var server = new TestKmsServer(refuseWith: 0xC004F042);

        var (code, _, error) = await RunAsync("activate", "--host", server.HostPort, "--kms-id", Guid.NewGuid().ToString());

        Assert.Equal(ExitCodes.Refused, code);
        Assert.Contains("0xC004F042", error, StringComparison.Ordinal);
        Assert.Contains("declined to activate", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_protocol_error_exits_non_zero_with_a_message()
    {
        await using var server = new TestKmsServer(TestServerMode.Garbage);

        var (code, _, error) = await RunAsync("activate", "--host", server.HostPort, "--product", "Windows 10 Professional");

        Assert.Equal(ExitCodes.ProtocolError, code);
        Assert.StartsWith("Protocol error: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Products_lists_and_filters_the_catalog()
    {
        var (code, output, _) = await RunAsync("products", "--filter", "Server 2019", "--json");

        Assert.Equal(ExitCodes.Success, code);
        using var json = JsonDocument.Parse(output);
        var products = json.RootElement.EnumerateArray().ToArray();
        Assert.NotEmpty(products);
        Assert.All(products, p => Assert.Contains("Server 2019", p.GetProperty("name").GetString(), StringComparison.Ordinal));
        Assert.Contains(products, p => p.GetProperty("skuId").GetGuid() == new Guid("34e1ae55-27f8-4950-8877-7a03be5fb181")
            && p.GetProperty("nPolicy").GetInt32() == 5 && p.GetProperty("defaultProtocol").GetInt32() == 6);
    }

    [Fact]
    public async Task Load_prints_a_json_report()
    {
        await using var server = new TestKmsServer();

        var (code, output, _) = await RunAsync(
            "load", "--hosts", server.HostPort, "--clients", "20", "--duration", "1s", "--concurrency", "2", "--mix", "server", "--json");

        Assert.Equal(ExitCodes.Success, code);
        using var json = JsonDocument.Parse(output);
        var root = json.RootElement;
        Assert.Equal(root.GetProperty("requests").GetInt64(), root.GetProperty("activations").GetInt64());
        Assert.Equal("Server", root.GetProperty("mix").GetString());
        Assert.True(root.GetProperty("latency").GetProperty("p99Ms").GetDouble() > 0);
    }

    [Fact]
    public async Task Load_writes_a_timeline_whose_last_line_is_the_reports_totals()
    {
        await using var server = new TestKmsServer();
        var file = new FileInfo(Path.Combine(Path.GetTempPath(), $"kmsfarm-timeline-{Guid.NewGuid():N}.csv"));
        try
        {
            long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var (code, output, _) = await RunAsync(
                "load", "--hosts", server.HostPort, "--clients", "50", "--duration", "1.2s", "--concurrency", "2", "--json", "--timeline", file.FullName);
            long after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

            Assert.Equal(ExitCodes.Success, code);
            using var json = JsonDocument.Parse(output);
            var root = json.RootElement;
            var lines = await File.ReadAllLinesAsync(file.FullName, TestContext.Current.CancellationToken);
            Assert.Equal(
                "unix_ms,elapsed_ms,requests,activations,failed,connect,timeout,protocol,connectionlost,refused,windows,office2010,office2013plus",
                lines[0]);
            var rows = lines.Skip(1).Select(l => l.Split(',').Select(long.Parse).ToArray()).ToArray();
            Assert.True(rows.Length >= 5, $"{rows.Length} samples in 1.2 s");
            Assert.All(rows, r => Assert.Equal(13, r.Length));
            Assert.All(rows, r => Assert.InRange(r[0], before, after));
            for (int i = 1; i < rows.Length; i++)
            {
                Assert.True(rows[i][0] >= rows[i - 1][0] && rows[i][3] >= rows[i - 1][3], $"sample {i} goes back");
            }

            var last = rows[^1];
            Assert.Equal(root.GetProperty("requests").GetInt64(), last[2]);
            Assert.Equal(root.GetProperty("activations").GetInt64(), last[3]);
            Assert.Equal(0, last[4]);
            Assert.Equal(last[3], last[10] + last[11] + last[12]);
            Assert.True(last[10] > 0);
        }
        finally
        {
            file.Delete();
        }
    }

    [Fact]
    public async Task Load_timeline_counts_failures_by_kind()
    {
        int port = TestKit.LoopbackPorts.Free();
        var file = new FileInfo(Path.Combine(Path.GetTempPath(), $"kmsfarm-timeline-{Guid.NewGuid():N}.csv"));
        try
        {
            var (code, output, _) = await RunAsync(
                "load", "--hosts", $"127.0.0.1:{port}", "--clients", "10", "--duration", "0.5s", "--concurrency", "1", "--rate", "40", "--json",
                "--timeline", file.FullName);

            Assert.Equal(ExitCodes.LoadErrors, code);
            using var json = JsonDocument.Parse(output);
            var root = json.RootElement;
            var last = (await File.ReadAllLinesAsync(file.FullName, TestContext.Current.CancellationToken))[^1].Split(',').Select(long.Parse).ToArray();
            Assert.True(last[2] > 0);
            Assert.Equal(root.GetProperty("failedRequests").GetInt64(), last[4]);
            Assert.Equal(last[2], last[4]);
            Assert.Equal(root.GetProperty("errors").GetProperty("Connect").GetInt64(), last[5]);
            Assert.Equal(0, last[3]);
        }
        finally
        {
            file.Delete();
        }
    }
}
