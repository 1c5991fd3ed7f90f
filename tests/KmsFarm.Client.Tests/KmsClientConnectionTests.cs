using KmsFarm.Protocol.Kms;
using KmsFarm.Protocol.Rpc;

namespace KmsFarm.Client.Tests;

public sealed class KmsClientConnectionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static KmsRequest Request(KmsProtocolVersion version, Guid cmid, string product = "Windows 10 Professional") =>
        new KmsClientMachine(cmid, "DESKTOP-TEST123", ClientCatalog.Default.FindByName(product)!).CreateRequest(version, DateTime.UtcNow);

    private static Task<KmsClientConnection> ConnectAsync(TestKmsServer server, KmsClientOptions? options = null) =>
        KmsClientConnection.ConnectAsync("127.0.0.1", server.Port, options ?? new KmsClientOptions(), Ct);

    [Theory]
    [InlineData(KmsProtocolVersion.V4)]
    [InlineData(KmsProtocolVersion.V5)]
    [InlineData(KmsProtocolVersion.V6)]
    public async Task Activates_with_every_protocol_version(KmsProtocolVersion version)
    {
        await using var server = new TestKmsServer();
        await using var connection = await ConnectAsync(server);
        var cmid = Guid.NewGuid();

        var result = await connection.ActivateAsync(version, Request(version, cmid), Ct);

        Assert.True(result.Succeeded);
        Assert.Equal(KmsHResults.Success, result.HResult);
        var response = result.Response!;
        Assert.Equal(version, response.Version);
        Assert.Equal(TestKmsServer.Epid, response.Epid);
        Assert.Equal(TestKmsServer.Count, response.CurrentCount);
        Assert.Equal(120u, response.ActivationInterval);
        Assert.Equal(10080u, response.RenewalInterval);
        Assert.Equal(cmid, response.ClientMachineId);
        Assert.Equal(version == KmsProtocolVersion.V6 ? TestKmsServer.HwId : null, response.HwId);
        Assert.Equal(RpcTransferSyntax.Ndr32, result.TransferSyntax);
        Assert.True(result.Elapsed > TimeSpan.Zero);
        Assert.Equal((1, false, version, cmid), Assert.Single(server.Calls));
    }

    [Fact]
    public async Task The_first_request_uses_NDR32_and_later_ones_NDR64_on_one_connection()
    {
        await using var server = new TestKmsServer();
        await using var connection = await ConnectAsync(server);

        Assert.True(connection.Ndr64Negotiated);
        Assert.True(connection.UsedAlterContext); // a Windows 8+ host refuses NDR32 in the bind
        Assert.Equal((ushort)3, connection.BtfnFeatures);
        var syntaxes = new List<RpcTransferSyntax>();
        foreach (var version in new[] { KmsProtocolVersion.V6, KmsProtocolVersion.V5, KmsProtocolVersion.V4 })
        {
            var result = await connection.ActivateAsync(version, Request(version, Guid.NewGuid()), Ct);
            Assert.True(result.Succeeded);
            syntaxes.Add(result.TransferSyntax);
        }

        Assert.Equal([RpcTransferSyntax.Ndr32, RpcTransferSyntax.Ndr64, RpcTransferSyntax.Ndr64], syntaxes);
        Assert.Equal([false, true, true], server.Calls.Select(c => c.IsNdr64));
        Assert.Equal(3, connection.RequestCount);
        Assert.Equal(1, server.ConnectionCount);
    }

    [Fact]
    public async Task Without_NDR64_every_request_uses_NDR32_and_no_alter_context_is_needed()
    {
        await using var server = new TestKmsServer();
        await using var connection = await ConnectAsync(server, new KmsClientOptions { OfferNdr64 = false });

        Assert.False(connection.Ndr64Negotiated);
        Assert.False(connection.UsedAlterContext);
        for (int i = 0; i < 2; i++)
        {
            var result = await connection.ActivateAsync(KmsProtocolVersion.V6, Request(KmsProtocolVersion.V6, Guid.NewGuid()), Ct);
            Assert.Equal(RpcTransferSyntax.Ndr32, result.TransferSyntax);
        }

        Assert.All(server.Calls, c => Assert.False(c.IsNdr64));
    }

    [Fact]
    public async Task A_host_without_NDR64_accepts_NDR32_in_the_bind()
    {
        await using var server = new TestKmsServer(rpcOptions: new RpcServerOptions { Ndr64Enabled = false, BtfnEnabled = false });
        await using var connection = await ConnectAsync(server);

        Assert.False(connection.Ndr64Negotiated);
        Assert.False(connection.UsedAlterContext);
        Assert.Null(connection.BtfnFeatures);
        var result = await connection.ActivateAsync(KmsProtocolVersion.V5, Request(KmsProtocolVersion.V5, Guid.NewGuid()), Ct);
        Assert.True(result.Succeeded);
    }

    [Fact]
    public async Task Btfn_and_multiplexing_can_be_switched_off()
    {
        await using var server = new TestKmsServer();
        await using var connection = await ConnectAsync(server, new KmsClientOptions { OfferBtfn = false, Multiplex = false });

        Assert.Null(connection.BtfnFeatures);
        Assert.True(connection.Ndr64Negotiated);
        var first = await connection.ActivateAsync(KmsProtocolVersion.V6, Request(KmsProtocolVersion.V6, Guid.NewGuid()), Ct);
        var second = await connection.ActivateAsync(KmsProtocolVersion.V6, Request(KmsProtocolVersion.V6, Guid.NewGuid()), Ct);
        Assert.True(first.Succeeded && second.Succeeded);
        Assert.Equal(RpcTransferSyntax.Ndr64, second.TransferSyntax);
    }

    [Fact]
    public async Task A_refusal_surfaces_the_hresult_and_keeps_the_connection_usable()
    {
        await using var server = new TestKmsServer(refuseWith: KmsHResults.ProductNotSupported);
        await using var connection = await ConnectAsync(server);

        var first = await connection.ActivateAsync(KmsProtocolVersion.V6, Request(KmsProtocolVersion.V6, Guid.NewGuid()), Ct);
        var second = await connection.ActivateAsync(KmsProtocolVersion.V4, Request(KmsProtocolVersion.V4, Guid.NewGuid()), Ct);

        Assert.False(first.Succeeded);
        Assert.Equal(KmsHResults.ProductNotSupported, first.HResult);
        Assert.Null(first.Response);
        Assert.Equal(KmsHResults.ProductNotSupported, second.HResult);
        Assert.Equal(RpcTransferSyntax.Ndr64, second.TransferSyntax);
        Assert.True(connection.IsUsable);
    }

    [Fact]
    public async Task Server_too_busy_is_an_answer_with_its_hresult_and_the_connection_stays_usable()
    {
        await using var server = new TestKmsServer(TestServerMode.TooBusy);
        await using var connection = await ConnectAsync(server);

        var first = await connection.ActivateAsync(KmsProtocolVersion.V6, Request(KmsProtocolVersion.V6, Guid.NewGuid()), Ct);
        var second = await connection.ActivateAsync(KmsProtocolVersion.V6, Request(KmsProtocolVersion.V6, Guid.NewGuid()), Ct);

        Assert.Equal(KmsHResults.ServerTooBusy, first.HResult);
        Assert.False(first.Succeeded);
        Assert.Equal(KmsHResults.ServerTooBusy, second.HResult);
        Assert.True(connection.IsUsable);
        Assert.Equal(2, connection.RequestCount);
        Assert.Contains("too busy", HResultText.Describe(first.HResult), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connects_from_the_local_address_it_is_given()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var accept = listener.AcceptSocketAsync(Ct).AsTask();
        var options = new KmsClientOptions { LocalAddress = System.Net.IPAddress.Parse("127.0.0.9"), ReceiveTimeout = TimeSpan.FromSeconds(30) };
        var connect = KmsClientConnection.ConnectAsync("127.0.0.1", port, options, Ct);
        using (var socket = await accept)
        {
            Assert.Equal(System.Net.IPAddress.Parse("127.0.0.9"), ((System.Net.IPEndPoint)socket.RemoteEndPoint!).Address);
        }

        await Assert.ThrowsAsync<IOException>(() => connect);
        listener.Stop();

        // An IPv6 host cannot be reached from an IPv4 address.
        var e = await Assert.ThrowsAsync<KmsConnectException>(() => KmsClientConnection.ConnectAsync("::1", port, options, Ct));
        Assert.Contains("no address of the family of 127.0.0.9", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_sends_garbage_is_a_protocol_error()
    {
        await using var server = new TestKmsServer(TestServerMode.Garbage);

        var ex = await Assert.ThrowsAsync<KmsProtocolException>(() => ConnectAsync(server));

        Assert.Contains("bind_ack", ex.Message, StringComparison.Ordinal);
        Assert.Contains(server.HostPort, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_response_that_fails_verification_is_a_protocol_error_and_the_connection_becomes_unusable()
    {
        foreach (var version in new[] { KmsProtocolVersion.V4, KmsProtocolVersion.V5, KmsProtocolVersion.V6 })
        {
            await using var server = new TestKmsServer(TestServerMode.CorruptResponse);
            await using var connection = await ConnectAsync(server);

            await Assert.ThrowsAsync<KmsProtocolException>(() => connection.ActivateAsync(version, Request(version, Guid.NewGuid()), Ct));

            Assert.False(connection.IsUsable);
            var again = await Assert.ThrowsAsync<InvalidOperationException>(
                () => connection.ActivateAsync(version, Request(version, Guid.NewGuid()), Ct));
            Assert.Contains("unusable", again.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_server_that_closes_during_the_bind_is_a_clear_error()
    {
        await using var server = new TestKmsServer(TestServerMode.CloseOnFirstPdu);

        var ex = await Assert.ThrowsAsync<IOException>(() => ConnectAsync(server));

        Assert.Contains("closed the connection", ex.Message, StringComparison.Ordinal);
        Assert.Contains("bind_ack", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_that_closes_instead_of_answering_is_a_clear_error()
    {
        await using var server = new TestKmsServer(TestServerMode.CloseAfterBind);
        await using var connection = await ConnectAsync(server);

        var ex = await Assert.ThrowsAsync<IOException>(
            () => connection.ActivateAsync(KmsProtocolVersion.V6, Request(KmsProtocolVersion.V6, Guid.NewGuid()), Ct));

        Assert.Contains("closed the connection", ex.Message, StringComparison.Ordinal);
        Assert.Contains("response", ex.Message, StringComparison.Ordinal);
        Assert.False(connection.IsUsable);
    }

    [Fact]
    public async Task A_refused_connection_is_a_connect_error()
    {
        int port;
        await using (var server = new TestKmsServer())
        {
            port = server.Port;
        }

        var ex = await Assert.ThrowsAsync<KmsConnectException>(() => KmsClientConnection.ConnectAsync("127.0.0.1", port, null, Ct));

        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
        Assert.False(ex.IsTimeout);
    }

    [Fact]
    public async Task Connects_over_IPv6_loopback()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.IPv6Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        var accept = listener.AcceptSocketAsync(Ct).AsTask();
        var connect = KmsClientConnection.ConnectAsync("::1", port, new KmsClientOptions { ReceiveTimeout = TimeSpan.FromSeconds(30) }, Ct);
        using (var socket = await accept)
        {
            Assert.Equal(System.Net.Sockets.AddressFamily.InterNetworkV6, socket.AddressFamily);
        }

        // The listener is not a KMS host: it closes without a bind_ack.
        await Assert.ThrowsAsync<IOException>(() => connect);
        listener.Stop();
    }

    [Fact]
    public async Task Connects_by_host_name()
    {
        await using var server = new TestKmsServer();
        await using var connection = await KmsClientConnection.ConnectAsync("localhost", server.Port, null, Ct);

        var result = await connection.ActivateAsync(KmsProtocolVersion.V6, Request(KmsProtocolVersion.V6, Guid.NewGuid()), Ct);

        Assert.True(result.Succeeded);
    }
}
