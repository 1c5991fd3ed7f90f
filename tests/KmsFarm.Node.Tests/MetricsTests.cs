using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;

namespace KmsFarm.Node.Tests;

public sealed class MetricsTests
{
    [Fact]
    public async Task Requests_connections_and_rejections_are_measured()
    {
        var ct = TestContext.Current.CancellationToken;
        var measurements = new ConcurrentQueue<(string Name, string? Unit, long Value, Dictionary<string, object?> Tags)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == KmsMetrics.MeterName)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        // Nodes of other tests run in parallel: keep only the measurements of this node's meter (its scope is the
        // node's IMeterFactory).
        object? scope = null;
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) =>
        {
            if (ReferenceEquals(i.Meter.Scope, Volatile.Read(ref scope)))
            {
                measurements.Enqueue((i.Name, i.Unit, v, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
            }
        });
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) =>
        {
            if (ReferenceEquals(i.Meter.Scope, Volatile.Read(ref scope)))
            {
                measurements.Enqueue((i.Name, i.Unit, 1, tags.ToArray().ToDictionary(t => t.Key, t => t.Value)));
            }
        });
        listener.Start();

        await using var node = await InProcessNode.StartAsync(["--max-connections", "1"], cancellationToken: ct);
        Volatile.Write(ref scope, node.Services.GetRequiredService<IMeterFactory>());
        await using (var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, ct))
        {
            var (hresult, _) = await client.RequestAsync(KmsProtocolVersion.V5, RawKmsClient.WindowsProRequest(Guid.NewGuid(), KmsProtocolVersion.V5), ndr64: false, ct);
            Assert.Equal(KmsHResults.Success, hresult);
            await using var refused = await RawKmsConnection.ConnectAsync(node.KmsEndPoint, ct);
            Assert.Equal(0, await refused.ReadUntilClosedAsync(ct));
        }

        // The connection's duration is recorded when the server sees the close, which happens after the client's
        // Dispose returns: wait for it (bounded) instead of racing the server.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!measurements.Any(m => m.Name == "kms.rpc.connection.duration"))
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), "the server never recorded the closed connection");
            await Task.Delay(10, ct);
        }

        var request = Assert.Single(measurements, m => m.Name == "kms.activation.requests" && (int)m.Tags["kms.protocol.version"]! == 5
            && (string)m.Tags["kms.result"]! == "activated");
        Assert.Equal("{request}", request.Unit);
        Assert.Equal("windows", request.Tags["kms.product.group"]);
        Assert.Contains(measurements, m => m.Name == "kms.activation.duration" && m.Unit == "s");
        Assert.Contains(measurements, m => m.Name == "kms.rpc.active_connections" && m.Value == 1 && m.Unit == "{connection}");
        Assert.Contains(measurements, m => m.Name == "kms.rpc.connection.duration" && m.Unit == "s");
        var rejected = Assert.Single(measurements, m => m.Name == "kms.rpc.connections.rejected");
        Assert.Equal("connection_limit", rejected.Tags["error.type"]);
    }
}
