using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using KmsFarm.Client;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Connections;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Node.Tests;

/// <summary>Fair admission on an in-process node: the per-source connection limit, the handshake timeout, the connection
/// lifetime, the per-source request rate and readiness when the cap is taken. Each client picks its own loopback address,
/// so it is its own source.</summary>
public sealed class AdmissionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_source_over_its_connection_limit_is_refused_at_accept_while_another_source_gets_in()
    {
        await using var node = await InProcessNode.StartAsync(["--max-connections-per-source", "2"], cancellationToken: Ct);
        using var refusals = Collect(node, "kms.admission.refusals");
        using var rejected = Collect(node, "kms.rpc.connections.rejected");

        await using var first = await AdmissionClient.ConnectAsync(node.KmsEndPoint, "127.0.0.2", Ct);
        await using var second = await AdmissionClient.ConnectAsync(node.KmsEndPoint, "127.0.0.2", Ct);
        using (var third = await AdmissionClient.OpenRawAsync(node.KmsEndPoint, "127.0.0.2", Ct))
        {
            Assert.Equal(0, await AdmissionClient.ReadUntilClosedAsync(third, Ct));
        }

        Assert.True(await AdmissionClient.TryActivateOnceAsync(node.KmsEndPoint, "127.0.0.3", Ct));
        Assert.True((await AdmissionClient.ActivateAsync(first, Ct)).Succeeded);
        Assert.Equal("per_source_limit", Assert.Single(refusals.GetMeasurementSnapshot()).Tags["reason"]);
        Assert.Equal("per_source_limit", Assert.Single(rejected.GetMeasurementSnapshot()).Tags["error.type"]);

        // A slot freed is a slot for the same source again.
        await second.DisposeAsync();
        await WaitUntilAsync(() => node.Services.GetRequiredService<ConnectionAdmission>().ActiveConnections == 1);
        Assert.True(await AdmissionClient.TryActivateOnceAsync(node.KmsEndPoint, "127.0.0.2", Ct));
    }

    [Fact]
    public async Task A_connection_without_a_bind_is_cut_at_the_handshake_timeout_and_a_bound_one_is_not()
    {
        await using var node = await InProcessNode.StartAsync(["--handshake-timeout", "1"], cancellationToken: Ct);
        using var refusals = Collect(node, "kms.admission.refusals");
        using var rejected = Collect(node, "kms.rpc.connections.rejected");
        await using var bound = await AdmissionClient.ConnectAsync(node.KmsEndPoint, "127.0.0.2", Ct);

        // Ten bytes of a bind and then nothing: the bind never completes.
        using (var slow = await AdmissionClient.OpenRawAsync(node.KmsEndPoint, "127.0.0.4", Ct))
        {
            await slow.SendAsync(new byte[] { 5, 0, 11, 3, 16, 0, 0, 0, 160, 0 }, SocketFlags.None, Ct);
            Assert.Equal(0, await AdmissionClient.ReadUntilClosedAsync(slow, Ct));
        }

        Assert.Equal("handshake_timeout", Assert.Single(refusals.GetMeasurementSnapshot()).Tags["reason"]);
        Assert.Empty(rejected.GetMeasurementSnapshot()); // admitted at accept, cut later

        // The bound connection sat idle longer than the handshake timeout (not the idle timeout) and still serves.
        Assert.True((await AdmissionClient.ActivateAsync(bound, Ct)).Succeeded);
    }

    [Fact]
    public async Task A_bound_connection_that_goes_quiet_after_a_request_is_closed_at_the_idle_timeout()
    {
        await using var node = await InProcessNode.StartAsync(["--idle-timeout", "1"], cancellationToken: Ct);
        await using var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, Ct);
        var (hresult, _) = await client.RequestAsync(KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), ndr64: false, Ct);
        Assert.Equal(KmsHResults.Success, hresult);

        Assert.Equal(0, await client.Connection.ReadUntilClosedAsync(Ct));
    }

    [Fact]
    public async Task A_connection_is_closed_between_requests_once_its_lifetime_is_over()
    {
        await using var node = await InProcessNode.StartAsync(["--connection-lifetime", "1"], cancellationToken: Ct);
        using var refusals = Collect(node, "kms.admission.refusals");
        await using var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, Ct);
        var (hresult, _) = await client.RequestAsync(KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), ndr64: false, Ct);
        Assert.Equal(KmsHResults.Success, hresult);

        Assert.Equal(0, await client.Connection.ReadUntilClosedAsync(Ct));
        await refusals.WaitForMeasurementsAsync(1, TimeSpan.FromSeconds(30));
        Assert.Equal("lifetime", Assert.Single(refusals.GetMeasurementSnapshot()).Tags["reason"]);
    }

    [Fact]
    public async Task Requests_over_a_sources_rate_get_server_too_busy_on_a_connection_that_stays_usable_and_other_sources_are_served()
    {
        // 3 requests at once, then one per 100 s: the 4th request at once is over the rate.
        await using var node = await InProcessNode.StartAsync(["--request-rate", "0.01", "--request-burst", "3"], cancellationToken: Ct);
        using var refusals = Collect(node, "kms.admission.refusals");
        await using var flood = await AdmissionClient.ConnectAsync(node.KmsEndPoint, "127.0.0.5", Ct);

        var results = new List<KmsActivationResult>();
        for (int i = 0; i < 5; i++)
        {
            results.Add(await AdmissionClient.ActivateAsync(flood, Ct));
        }

        Assert.Equal([true, true, true, false, false], results.Select(r => r.Succeeded));
        Assert.All(results.Skip(3), r => Assert.Equal(KmsHResults.ServerTooBusy, r.HResult));
        Assert.True(flood.IsUsable);
        Assert.True(await AdmissionClient.TryActivateOnceAsync(node.KmsEndPoint, "127.0.0.6", Ct));

        // A new connection does not refill the source's bucket.
        Assert.False(await AdmissionClient.TryActivateOnceAsync(node.KmsEndPoint, "127.0.0.5", Ct));
        var refused = refusals.GetMeasurementSnapshot();
        Assert.Equal(3, refused.Count);
        Assert.All(refused, r => Assert.Equal("rate_limited", r.Tags["reason"]));
        Assert.Equal("{refusal}", refusals.Instrument!.Unit);
    }

    [Fact]
    public async Task Readiness_says_so_while_the_connection_cap_is_taken()
    {
        await using var node = await InProcessNode.StartAsync(["--max-connections", "2"], cancellationToken: Ct);
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/healthz/ready", Ct)).StatusCode);

        await using var first = await AdmissionClient.ConnectAsync(node.KmsEndPoint, "127.0.0.2", Ct);
        await using var second = await AdmissionClient.ConnectAsync(node.KmsEndPoint, "127.0.0.3", Ct);
        var full = await node.Http.GetAsync("/healthz/ready", Ct);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, full.StatusCode);
        Assert.Equal("not ready: KMS connection cap reached (2 of 2 open)\n", await full.Content.ReadAsStringAsync(Ct));

        await second.DisposeAsync();
        await WaitUntilAsync(async () => (await node.Http.GetAsync("/healthz/ready", Ct)).StatusCode == HttpStatusCode.OK);
    }

    [Fact]
    public async Task The_effective_admission_settings_are_logged_once_at_start()
    {
        var logs = new CapturingLoggerProvider();
        await using var node = await InProcessNode.StartAsync(
            ["--max-connections", "500", "--max-connections-per-source", "16", "--handshake-timeout", "3",
             "--connection-lifetime", "00:10:00", "--request-rate", "2.5", "--request-burst", "40"],
            configure: b =>
            {
                b.Logging.AddProvider(logs);
                b.Logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace);
            },
            cancellationToken: Ct);

        var line = Assert.Single(logs.Entries, e => e.EventId.Id == KmsEventId.AdmissionSettings);
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Equal(
            "Admission: 500 connections, 16 per source address, bind within 00:00:03, idle timeout 00:00:30, lifetime 00:10:00, "
            + "requests per source 2.5/s, burst 40",
            line.Message);
    }

    [Fact]
    public void The_admission_flags_map_to_configuration_keys()
    {
        var pairs = CommandLineFlags.Translate(
            ["--max-connections-per-source", "8", "--handshake-timeout", "2", "--connection-lifetime", "600", "--request-rate", "0.5",
             "--request-burst", "20"]);
        Assert.Equal(
            [
                new("KmsFarm:Listener:MaxConnectionsPerSource", "8"), new("KmsFarm:Listener:HandshakeTimeout", "00:00:02"),
                new("KmsFarm:Listener:ConnectionLifetime", "00:10:00"), new("KmsFarm:Listener:RequestRate", "0.5"),
                new KeyValuePair<string, string?>("KmsFarm:Listener:RequestBurst", "20"),
            ],
            pairs);
    }

    private static MetricCollector<long> Collect(InProcessNode node, string instrument) =>
        new(node.Services.GetRequiredService<IMeterFactory>(), KmsMetrics.MeterName, instrument);

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()));

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        for (int i = 0; i < 300 && !await condition(); i++)
        {
            await Task.Delay(100, Ct);
        }

        Assert.True(await condition(), "the condition did not hold within 30 s");
    }
}
