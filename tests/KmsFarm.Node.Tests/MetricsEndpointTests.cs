using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;

namespace KmsFarm.Node.Tests;

/// <summary><c>GET /metrics</c> on the node's HTTP endpoint: the Prometheus text format, our families and Orleans', clean
/// for <c>promtool check metrics</c>.</summary>
public sealed class MetricsEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Metrics_are_served_in_the_prometheus_text_format_and_pass_promtool()
    {
        await using var node = await InProcessNode.StartAsync(cancellationToken: Ct);
        await using (var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, Ct))
        {
            var (hresult, _) = await client.RequestAsync(
                KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), ndr64: false, Ct);
            Assert.Equal(KmsHResults.Success, hresult);
        }

        using var response = await node.Http.GetAsync("/metrics", Ct);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        string text = await response.Content.ReadAsStringAsync(Ct);

        foreach (string family in new[]
        {
            "# TYPE kms_activation_requests_total counter",
            "# TYPE kms_activation_duration_seconds histogram",
            "# TYPE kms_product_group_clients gauge",
            "# TYPE kms_product_group_threshold gauge",
            "# TYPE kms_product_group_capacity gauge",
            "# TYPE kms_rpc_active_connections gauge",
            "# TYPE kms_rpc_connections_accepted_total counter",
            "# TYPE kms_store_operation_duration_seconds histogram",
            "# TYPE kms_node_info gauge",
            "# TYPE orleans_grains gauge",
            "# TYPE kestrel_active_connections gauge",
            "# TYPE dotnet_gc_collections_total counter",
            "# TYPE process_cpu_time_seconds_total counter",
        })
        {
            Assert.Contains(family, text, StringComparison.Ordinal);
        }

        var (exitCode, problems) = await Promtool.CheckMetricsAsync(text, Ct);
        Assert.True(exitCode == 0, "promtool check metrics:\n" + problems);
    }
}
