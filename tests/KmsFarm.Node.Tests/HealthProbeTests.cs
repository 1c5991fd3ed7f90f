using System.Globalization;
using KmsFarm.Node.Hosting;
using KmsFarm.TestKit;

namespace KmsFarm.Node.Tests;

/// <summary><c>KmsFarm.Node probe</c>, the image's HEALTHCHECK: it finds the node's HTTP endpoint as the node does and
/// exits 0 only when the health endpoint answers 200.</summary>
public sealed class HealthProbeTests
{
    [Theory]
    [InlineData(new[] { "--http-endpoint", "0.0.0.0:8688" }, "ready", "http://127.0.0.1:8688/healthz/ready")]
    [InlineData(new[] { "--http-endpoint", "[::]:9000" }, "live", "http://[::1]:9000/healthz/live")]
    [InlineData(new[] { "--http-endpoint", "10.1.2.3:8688" }, "ready", "http://10.1.2.3:8688/healthz/ready")]
    public void Asks_the_configured_endpoint_on_loopback_when_it_is_a_wildcard(string[] flags, string check, string expected) =>
        Assert.Equal(new Uri(expected), HealthProbe.HealthUri(flags, check));

    [Fact]
    public async Task Exits_0_for_a_ready_node_and_1_when_nothing_answers_or_the_check_is_unknown()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await InProcessNode.StartAsync(cancellationToken: ct);
        string endpoint = node.HttpEndPoint.ToString();
        var output = new StringWriter(CultureInfo.InvariantCulture);

        Assert.Equal(0, await HealthProbe.RunAsync(["probe", "ready", "--http-endpoint", endpoint], output, TextWriter.Null));
        Assert.Contains("200 ready", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(0, await HealthProbe.RunAsync(["probe", "live", "--http-endpoint", endpoint], TextWriter.Null, TextWriter.Null));
        Assert.Equal(1, await HealthProbe.RunAsync(["probe", "sideways", "--http-endpoint", endpoint], TextWriter.Null, TextWriter.Null));

        int closed = LoopbackPorts.Free();
        var error = new StringWriter(CultureInfo.InvariantCulture);
        Assert.Equal(1, await HealthProbe.RunAsync(["probe", "--http-endpoint", "127.0.0.1:" + closed.ToString(CultureInfo.InvariantCulture)], TextWriter.Null, error));
        Assert.Contains("/healthz/ready", error.ToString(), StringComparison.Ordinal);
    }
}
