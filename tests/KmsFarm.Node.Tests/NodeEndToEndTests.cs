using System.Net;
using System.Net.Sockets;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;

namespace KmsFarm.Node.Tests;

/// <summary>Whole-node behaviour over loopback TCP and HTTP: each test starts its own node with a fresh SQLite file.</summary>
public sealed class NodeEndToEndTests
{
    /// <summary>Conversations recorded against the NDR64+BTFN server (not the NDR32-only or strict-whitelist ones, whose
    /// answers depend on that server's settings).</summary>
    public static TheoryData<string> ReplayableVectors => new(RecordedVectors.Names.Where(n =>
        RecordedVectors.Load(n).Root.GetProperty("server_command").GetString()!.Contains("-N1 -B1", StringComparison.Ordinal)));

    [Fact]
    public async Task Health_endpoints_answer()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await InProcessNode.StartAsync(cancellationToken: ct);
        var live = await node.Http.GetAsync("/healthz/live", ct);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        var ready = await node.Http.GetAsync("/healthz/ready", ct);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("ready\n", await ready.Content.ReadAsStringAsync(ct));
    }

    [Theory]
    [MemberData(nameof(ReplayableVectors))]
    public async Task Recorded_vlmcs_conversation_is_answered(string name)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await InProcessNode.StartAsync(cancellationToken: ct);
        var recorded = RecordedVectors.Load(name).Connections[0];
        await using var connection = await RawKmsConnection.ConnectAsync(node.KmsEndPoint, ct);
        var messages = recorded.Messages;
        for (int i = 0; i < messages.Count; i++)
        {
            var sent = messages[i];
            if (!sent.FromClient)
            {
                continue;
            }

            var expected = messages[i + 1];
            await connection.SendAsync(sent.Bytes, ct);
            var reply = await connection.ReceivePduAsync(ct);
            Assert.NotNull(reply);
            Assert.Equal(expected.Bytes![2], reply[2]);
            Assert.Equal(sent.Bytes.AsSpan(12, 4), reply.AsSpan(12, 4)); // call_id echoed
            if (sent.Bytes![2] != 0)
            {
                continue;
            }

            var body = sent.Json.GetProperty("body");
            bool ndr64 = body.GetProperty("transfer_syntax").GetString() == "NDR64";
            var (response, hresult) = RpcStubReader.Read(reply, ndr64);
            uint expectedHResult = expected.Json.GetProperty("body").GetProperty("return_code") is var rc && rc.ValueKind == System.Text.Json.JsonValueKind.String
                ? Convert.ToUInt32(rc.GetString(), 16)
                : rc.GetUInt32();
            Assert.Equal(expectedHResult, hresult);
            if (hresult != KmsHResults.Success)
            {
                Assert.Null(response);
                continue;
            }

            byte[] requestPayload = Convert.FromHexString(body.GetProperty("kms_request_hex").GetString()!);
            Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(requestPayload, out var decoded));
            var state = new KmsClientState
            {
                Version = decoded.Version,
                Request = decoded.Request,
                RequestIv = decoded.RequestIv,
                DecryptedRequestIv = decoded.DecryptedRequestIv,
            };
            var kms = KmsClientCodec.DecodeResponse(response!, state);
            Assert.Equal(decoded.Request.ClientMachineId, kms.ClientMachineId);
            Assert.Equal(decoded.Version, kms.Version);
            Assert.Equal(120u, kms.ActivationInterval);
            Assert.Equal(10080u, kms.RenewalInterval);
            Assert.InRange(kms.CurrentCount, 1u, 50u);
            Assert.False(string.IsNullOrEmpty(kms.Epid));
        }
    }

    [Fact]
    public async Task Denied_address_is_closed_without_a_byte()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await InProcessNode.StartAsync(["--deny", "127.0.0.1/32"], cancellationToken: ct);
        await using var connection = await RawKmsConnection.ConnectAsync(node.KmsEndPoint, ct);
        await connection.SendAsync(RecordedVectors.Load("v6_win10pro_ndr32").Connections[0].Messages[0].Bytes, ct);
        Assert.Equal(0, await connection.ReadUntilClosedAsync(ct));
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("unknown-ptype")]
    [InlineData("oversized")]
    [InlineData("truncated")]
    public async Task Malformed_input_closes_only_that_connection(string kind)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await InProcessNode.StartAsync(cancellationToken: ct);
        await using var healthy = await RawKmsClient.ConnectAsync(node.KmsEndPoint, ct);

        await using (var bad = await RawKmsConnection.ConnectAsync(node.KmsEndPoint, ct))
        {
            var bind = RecordedVectors.Load("v6_win10pro_ndr32").Connections[0].Messages[0].Bytes!;
            switch (kind)
            {
                case "garbage":
                    await bad.SendAsync(Enumerable.Repeat((byte)0xA5, 64).ToArray(), ct);
                    break;
                case "unknown-ptype":
                    var odd = bind.ToArray();
                    odd[2] = 19;
                    await bad.SendAsync(odd, ct);
                    break;
                case "oversized":
                    var big = bind.ToArray();
                    big[8] = 0xFF;
                    big[9] = 0xFF;
                    await bad.SendAsync(big, ct);
                    break;
                default:
                    await bad.SendAsync(bind.AsMemory(0, bind.Length / 2), ct);
                    break;
            }

            if (kind == "truncated")
            {
                // Half a PDU, then the client's end of the stream: the node must close rather than wait for the rest.
                GetSocket(bad).Shutdown(SocketShutdown.Send);
            }

            Assert.Equal(0, await bad.ReadUntilClosedAsync(ct));
        }

        var (hresult, response) = await healthy.RequestAsync(KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), ndr64: false, ct);
        Assert.Equal(KmsHResults.Success, hresult);
        Assert.NotNull(response);
    }

    [Fact]
    public async Task Idle_connection_is_closed()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await InProcessNode.StartAsync(["--idle-timeout", "1"], cancellationToken: ct);
        await using var idle = await RawKmsConnection.ConnectAsync(node.KmsEndPoint, ct);
        Assert.Equal(0, await idle.ReadUntilClosedAsync(ct));
    }

    [Fact]
    public async Task Connection_over_the_cap_is_closed_at_once()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await InProcessNode.StartAsync(["--max-connections", "1"], cancellationToken: ct);
        await using var first = await RawKmsClient.ConnectAsync(node.KmsEndPoint, ct);
        await using (var second = await RawKmsConnection.ConnectAsync(node.KmsEndPoint, ct))
        {
            Assert.Equal(0, await second.ReadUntilClosedAsync(ct));
        }

        var (hresult, _) = await first.RequestAsync(KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), ndr64: true, ct);
        Assert.Equal(KmsHResults.Success, hresult);
    }

    [Fact]
    public async Task Restart_keeps_counts_and_identity()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await InProcessNode.StartAsync(cancellationToken: ct);
        KmsResponse? before = null;
        await using (var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, ct))
        {
            for (int i = 0; i < 3; i++)
            {
                var (hresult0, response0) = await client.RequestAsync(
                    KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), ndr64: false, ct);
                Assert.Equal(KmsHResults.Success, hresult0);
                before = response0;
            }
        }

        Assert.NotNull(before);
        Assert.Equal(3u, before.CurrentCount);
        await node.RestartAsync(ct);

        await using var after = await RawKmsClient.ConnectAsync(node.KmsEndPoint, ct);
        var (hresult, response) = await after.RequestAsync(KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), ndr64: true, ct);
        Assert.Equal(KmsHResults.Success, hresult);
        Assert.Equal(4u, response!.CurrentCount);
        Assert.Equal(before.Epid, response.Epid);
        Assert.Equal(before.HwId, response.HwId);
    }

    [Fact]
    public async Task Stopping_the_node_closes_idle_connections_and_keeps_what_was_committed()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await InProcessNode.StartAsync(cancellationToken: ct);
        await using var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, ct);
        var (hresult, _) = await client.RequestAsync(KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), ndr64: false, ct);
        Assert.Equal(KmsHResults.Success, hresult);

        // The open association sits between requests: stopping ends it instead of waiting for the idle timeout.
        await node.StopAsync(ct);
        Assert.Equal(0, await client.Connection.ReadUntilClosedAsync(ct));

        await node.StartAsync(ct);
        await using var again = await RawKmsClient.ConnectAsync(node.KmsEndPoint, ct);
        var (_, response) = await again.RequestAsync(KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), ndr64: false, ct);
        Assert.Equal(2u, response!.CurrentCount);
    }

    private static Socket GetSocket(RawKmsConnection connection) => connection.Socket;
}
