using KmsFarm.Node.Storage;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.DependencyInjection;

namespace KmsFarm.Node.Tests;

/// <summary>A store that fails while deciding a request closes that connection (no invented count) and makes the node
/// not ready; it recovers when the store does.</summary>
public sealed class StoreFailureTests
{
    [Fact]
    public async Task Store_failure_closes_the_connection_and_readiness_follows_the_store()
    {
        var ct = TestContext.Current.CancellationToken;
        var switchable = new FailingActivationStoreFactory();
        await using var node = await InProcessNode.StartAsync(
            configure: b => b.Services.Replace(ServiceDescriptor.Singleton<IActivationStoreFactory>(switchable)), cancellationToken: ct);

        await using (var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, ct))
        {
            var (hresult, _) = await client.RequestAsync(KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), ndr64: false, ct);
            Assert.Equal(KmsHResults.Success, hresult);
        }

        switchable.Store!.Failing = true;
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, (await node.Http.GetAsync("/healthz/ready", ct)).StatusCode);
        await using (var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, ct))
        {
            var payload = new byte[KmsClientCodec.MaxRequestLength];
            int length = KmsClientCodec.EncodeRequest(KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), payload, out _);
            await client.Connection.SendAsync(RawKmsClient.BuildRequestPdu(payload.AsSpan(0, length), ndr64: false, callId: 2), ct);
            Assert.Equal(0, await client.Connection.ReadUntilClosedAsync(ct));
        }

        switchable.Store.Failing = false;
        Assert.Equal(System.Net.HttpStatusCode.OK, (await node.Http.GetAsync("/healthz/ready", ct)).StatusCode);
        await using (var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, ct))
        {
            var (hresult, response) = await client.RequestAsync(KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), ndr64: false, ct);
            Assert.Equal(KmsHResults.Success, hresult);
            Assert.Equal(2u, response!.CurrentCount);
        }
    }
}
