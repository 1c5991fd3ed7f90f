using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using KmsFarm.Grains;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace KmsFarm.Node.Tests;

/// <summary>Each instrument of meter <c>KmsFarm</c> (docs/metrics.md): its name, unit and tags, measured on a real node.
/// Collectors are scoped to the node's <see cref="IMeterFactory"/>, so nodes of tests running in parallel do not mix in.</summary>
public sealed class MetricsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Activation_requests_are_counted_by_group_version_result_and_license_status_and_timed()
    {
        await using var node = await InProcessNode.StartAsync(cancellationToken: Ct);
        using var requests = Collect<long>(node, "kms.activation.requests");
        using var duration = Collect<double>(node, "kms.activation.duration");

        await using (var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, Ct))
        {
            var (hresult, _) = await client.RequestAsync(
                KmsProtocolVersion.V5, RawKmsClient.WindowsProRequest(Guid.NewGuid(), KmsProtocolVersion.V5), ndr64: false, Ct);
            Assert.Equal(KmsHResults.Success, hresult);
            var unknown = RawKmsClient.WindowsProRequest(Guid.NewGuid());
            unknown.ApplicationId = Guid.NewGuid();
            unknown.LicenseStatus = 1;
            (hresult, _) = await client.RequestAsync(KmsProtocolVersion.V6, unknown, ndr64: false, Ct);
            Assert.Equal(KmsHResults.ProductNotSupported, hresult);
        }

        Assert.Equal("{request}", requests.Instrument!.Unit);
        var measured = requests.GetMeasurementSnapshot();
        Assert.Equal(2, measured.Count);
        AssertTags(
            measured[0],
            ("kms.protocol.version", 5),
            ("kms.result", "activated"),
            ("kms.product.group", "windows"),
            ("kms.license.status", "oob_grace"));
        Assert.Equal(1, measured[0].Value);
        AssertTags(
            measured[1],
            ("kms.protocol.version", 6), ("kms.result", "rejected"), ("kms.product.group", "unknown"), ("kms.license.status", "licensed"));

        Assert.Equal("s", duration.Instrument!.Unit);
        var timed = duration.GetMeasurementSnapshot();
        Assert.Equal(2, timed.Count);
        AssertTags(timed[0], ("kms.protocol.version", 5), ("kms.result", "activated"), ("kms.product.group", "windows"));
        Assert.InRange(timed[0].Value, 0, 30);
    }

    [Fact]
    public async Task Connections_are_counted_when_accepted_open_and_closed_and_refused_by_reason()
    {
        await using var node = await InProcessNode.StartAsync(["--max-connections", "1", "--deny", "127.0.0.2/32"], cancellationToken: Ct);
        using var accepted = Collect<long>(node, "kms.rpc.connections.accepted");
        using var active = Collect<long>(node, "kms.rpc.active_connections");
        using var rejected = Collect<long>(node, "kms.rpc.connections.rejected");
        using var admission = Collect<long>(node, "kms.admission.refusals");
        using var lifetime = Collect<double>(node, "kms.rpc.connection.duration");

        await using (var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, Ct))
        {
            var (hresult, _) = await client.RequestAsync(
                KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), ndr64: false, Ct);
            Assert.Equal(KmsHResults.Success, hresult);

            // Over the cap of 1 while the first is open; then from an address the deny list names.
            await using (var overCap = await RawKmsConnection.ConnectAsync(node.KmsEndPoint, Ct))
            {
                Assert.Equal(0, await overCap.ReadUntilClosedAsync(Ct));
            }

            using var denied = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            denied.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
            await denied.ConnectAsync(node.KmsEndPoint, Ct);
            Assert.Equal(0, await denied.ReceiveAsync(new byte[16], SocketFlags.None, Ct));
        }

        await lifetime.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(30));
        Assert.Equal("{connection}", accepted.Instrument!.Unit);
        var admitted = Assert.Single(accepted.GetMeasurementSnapshot());
        Assert.Equal(1, admitted.Value);
        Assert.Empty(admitted.Tags);

        Assert.Equal("{connection}", active.Instrument!.Unit);
        Assert.Equal([1L, -1L], active.GetMeasurementSnapshot().Select(m => m.Value));
        Assert.All(active.GetMeasurementSnapshot(), m => Assert.Empty(m.Tags));

        Assert.Equal("{connection}", rejected.Instrument!.Unit);
        var refusals = rejected.GetMeasurementSnapshot();
        Assert.Equal(2, refusals.Count);
        AssertTags(refusals[0], ("error.type", "connection_limit"));
        AssertTags(refusals[1], ("error.type", "access_denied"));

        // The same refusals in admission control's counter of every refusal, by reason.
        Assert.Equal("{refusal}", admission.Instrument!.Unit);
        Assert.Equal(["connection_limit", "access_denied"], admission.GetMeasurementSnapshot().Select(m => (string?)m.Tags["reason"]));

        Assert.Equal("s", lifetime.Instrument!.Unit);
        Assert.Empty(Assert.Single(lifetime.GetMeasurementSnapshot()).Tags);
    }

    [Fact]
    public async Task Protocol_errors_are_counted_by_type()
    {
        await using var node = await InProcessNode.StartAsync(cancellationToken: Ct);
        using var errors = Collect<long>(node, "kms.rpc.protocol_errors");

        // Five bytes of a 16-byte RPC header, then the end of the stream: a truncated PDU.
        await using (var connection = await RawKmsConnection.ConnectAsync(node.KmsEndPoint, Ct))
        {
            await connection.SendAsync(new byte[] { 5, 0, 11, 3, 16 }, Ct);
            connection.Socket.Shutdown(SocketShutdown.Send);
            Assert.Equal(0, await connection.ReadUntilClosedAsync(Ct));
        }

        await errors.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(30));
        Assert.Equal("{error}", errors.Instrument!.Unit);
        AssertTags(Assert.Single(errors.GetMeasurementSnapshot()), ("error.type", "truncated"));
    }

    [Fact]
    public async Task The_product_group_grain_reports_latency_and_the_farm_wide_gauges_of_its_group()
    {
        await using var node = await InProcessNode.StartAsync(cancellationToken: Ct);
        using var apply = Collect<double>(node, "kms.product_group.apply.duration");
        using var clients = Collect<int>(node, "kms.product_group.clients");
        using var threshold = Collect<int>(node, "kms.product_group.threshold");
        using var capacity = Collect<int>(node, "kms.product_group.capacity");

        await using (var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, Ct))
        {
            var (hresult, _) = await client.RequestAsync(
                KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), ndr64: false, Ct);
            Assert.Equal(KmsHResults.Success, hresult);
        }

        Assert.Equal("s", apply.Instrument!.Unit);
        AssertTags(Assert.Single(apply.GetMeasurementSnapshot()), ("kms.product.group", "windows"), ("kms.result", "committed"));

        // One Windows client with N_Policy 25: count 1, threshold 25, capacity 50; only the group this silo hosts.
        foreach (var (collector, expected) in new[] { (clients, 1), (threshold, 25), (capacity, 50) })
        {
            collector.RecordObservableInstruments();
            Assert.Equal("{client}", collector.Instrument!.Unit);
            var gauge = Assert.Single(collector.GetMeasurementSnapshot());
            AssertTags(gauge, ("kms.product.group", "windows"));
            Assert.Equal(expected, gauge.Value);
        }
    }

    [Fact]
    public async Task Clients_seen_in_30_days_come_from_the_store_when_the_grain_activates()
    {
        await using var node = await InProcessNode.StartAsync(cancellationToken: Ct);
        await using (var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, Ct))
        {
            foreach (var cmid in new[] { Guid.NewGuid(), Guid.NewGuid() })
            {
                var (hresult, _) = await client.RequestAsync(
                    KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(cmid), ndr64: false, Ct);
                Assert.Equal(KmsHResults.Success, hresult);
            }
        }

        // After a restart the grain loads on its first call (here a status call: no commit races the count) and counts
        // the inventory at once.
        await node.RestartAsync(Ct);
        using var active = Collect<int>(node, "kms.clients.active");
        var grains = node.Services.GetRequiredService<IGrainFactory>();
        var status = await grains.GetGrain<IProductGroupGrain>("Windows").GetStatusAsync();
        Assert.Equal(2, status.Count);

        var clock = Stopwatch.StartNew();
        while (true)
        {
            active.RecordObservableInstruments();
            if (active.LastMeasurement is { } last)
            {
                Assert.Equal("{client}", active.Instrument!.Unit);
                AssertTags(last, ("kms.product.group", "windows"));
                Assert.Equal(2, last.Value);
                break;
            }

            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the grain never reported its clients seen in 30 days");
            await Task.Delay(50, Ct);
        }
    }

    [Fact]
    public async Task Node_info_names_the_node_its_build_and_its_store()
    {
        await using var node = await InProcessNode.StartAsync(cancellationToken: Ct);
        using var info = Collect<int>(node, "kms.node.info");
        info.RecordObservableInstruments();

        Assert.Null(info.Instrument!.Unit);
        var measurement = Assert.Single(info.GetMeasurementSnapshot());
        Assert.Equal(1, measurement.Value);
        Assert.Equal(
            ["kms.cluster.id", "kms.node.name", "kms.node.version", "kms.store.durability", "kms.store.kind"],
            measurement.Tags.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(node.Name, measurement.Tags["kms.node.name"]);
        Assert.Equal("sqlite", measurement.Tags["kms.store.kind"]);
        Assert.Equal("process", measurement.Tags["kms.store.durability"]);
        Assert.Equal("kmsfarm", measurement.Tags["kms.cluster.id"]);
        Assert.False(string.IsNullOrEmpty((string?)measurement.Tags["kms.node.version"]));
    }

    [Fact]
    public void Group_gauges_report_what_the_owning_activation_published_until_it_withdraws()
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var factory = services.GetRequiredService<IMeterFactory>();
        var metrics = new ProductGroupMetrics(factory);
        using var clients = new MetricCollector<int>(factory, ProductGroupMetrics.MeterName, "kms.product_group.clients");
        using var threshold = new MetricCollector<int>(factory, ProductGroupMetrics.MeterName, "kms.product_group.threshold");
        using var active = new MetricCollector<int>(factory, ProductGroupMetrics.MeterName, "kms.clients.active");
        object first = new(), second = new();

        metrics.PublishLedger(first, Protocol.Catalog.ProductGroup.Office2013Plus, count: 3, capacity: 10);
        metrics.PublishActiveClients(first, Protocol.Catalog.ProductGroup.Office2013Plus, 7);
        metrics.Withdraw(second, Protocol.Catalog.ProductGroup.Office2013Plus); // not the owner: ignored
        threshold.RecordObservableInstruments();
        clients.RecordObservableInstruments();
        active.RecordObservableInstruments();
        Assert.Equal(5, threshold.LastMeasurement!.Value);
        Assert.Equal(3, clients.LastMeasurement!.Value);
        Assert.Equal(7, active.LastMeasurement!.Value);
        AssertTags(clients.LastMeasurement, ("kms.product.group", "office2013plus"));

        metrics.Withdraw(first, Protocol.Catalog.ProductGroup.Office2013Plus);
        clients.Clear();
        clients.RecordObservableInstruments();
        Assert.Empty(clients.GetMeasurementSnapshot());
    }

    private static MetricCollector<T> Collect<T>(InProcessNode node, string instrument)
        where T : struct =>
        new(node.Services.GetRequiredService<IMeterFactory>(), KmsMetrics.MeterName, instrument);

    /// <summary>The measurement has exactly these tags.</summary>
    private static void AssertTags<T>(CollectedMeasurement<T> measurement, params (string Key, object Value)[] expected)
        where T : struct =>
        Assert.Equal(
            expected.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"),
            measurement.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => $"{t.Key}={t.Value}"));
}
