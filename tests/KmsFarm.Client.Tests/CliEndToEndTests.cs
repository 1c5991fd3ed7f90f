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
}
