using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;

namespace KmsFarm.Node.Tests;

/// <summary>The lab floor on the wire: a fresh node with <c>--minimum-count Windows=50</c> tells a Windows Server 2008 V4
/// client (N_Policy 5, a cache of 10) 10, not 50; a Windows 10/11 client (N_Policy 25) then gets the floor.</summary>
public sealed class CountFloorTests
{
    [Fact]
    public async Task The_floor_never_reports_more_than_the_cache_holds()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await InProcessNode.StartAsync(["--minimum-count", "Windows=50"], cancellationToken: ct);
        await using var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, ct);

        var server2008 = RawKmsClient.WindowsProRequest(Guid.NewGuid(), KmsProtocolVersion.V4);
        server2008.SkuId = new Guid("ad2542d4-9154-4c6d-8a44-30f11ee96989"); // Windows Server 2008 Standard
        server2008.KmsCountedId = new Guid("8fe53387-3087-4447-8985-f75132215ac9"); // Windows Server 2008 B
        server2008.RequiredClientCount = 5;
        var (hresult, response) = await client.RequestAsync(KmsProtocolVersion.V4, server2008, ndr64: false, ct);
        Assert.Equal(KmsHResults.Success, hresult);
        Assert.Equal(10u, response!.CurrentCount);

        (hresult, response) = await client.RequestAsync(KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), ndr64: false, ct);
        Assert.Equal(KmsHResults.Success, hresult);
        Assert.Equal(50u, response!.CurrentCount);
    }
}
