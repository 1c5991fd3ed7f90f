using KmsFarm.Client;
using KmsFarm.Node.Runtime;
using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Kms;
using KmsFarm.Protocol.Rpc;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;

namespace KmsFarm.Node.Tests;

/// <summary>Our client library against our node over loopback.</summary>
public sealed class InteropTests
{
    /// <summary>Volume products a genuine host activates (retail and preview ids are refused by policy), spread over
    /// the catalog: every k-th one so all three product groups appear.</summary>
    public static IReadOnlyList<ClientProduct> MatrixProducts { get; } = SelectProducts(24);

    public static TheoryData<KmsProtocolVersion> Versions => new(KmsProtocolVersion.V4, KmsProtocolVersion.V5, KmsProtocolVersion.V6);

    [Theory]
    [MemberData(nameof(Versions))]
    public async Task Every_product_activates_with_NDR32_then_NDR64_on_one_connection(KmsProtocolVersion version)
    {
        var ct = TestContext.Current.CancellationToken;
        Assert.True(MatrixProducts.Count >= 20);
        Assert.Equal(3, MatrixProducts.Select(p => p.Group).Distinct().Count());
        await using var node = await InProcessNode.StartAsync(cancellationToken: ct);
        var identity = node.Services.GetRequiredService<NodeRuntime>().Identity;
        var farmEpids = identity.Csvlks.Select(c => c.Epid).ToHashSet(StringComparer.Ordinal);

        foreach (var product in MatrixProducts)
        {
            await using var client = await KmsClientConnection.ConnectAsync("127.0.0.1", node.KmsEndPoint.Port, null, ct);
            Assert.True(client.Ndr64Negotiated, "the node claims an NDR64 host build");
            string? epid = null;
            foreach (var expectedSyntax in new[] { RpcTransferSyntax.Ndr32, RpcTransferSyntax.Ndr64 })
            {
                var cmid = Guid.NewGuid();
                var request = KmsRequestFactory.Create(product, cmid, "lab-" + cmid.ToString("N")[..8], version, DateTime.UtcNow);
                var result = await client.ActivateAsync(version, request, ct);
                Assert.True(result.Succeeded, $"{product.Name} V{(int)version} {expectedSyntax}: 0x{result.HResult:X8}");
                Assert.Equal(expectedSyntax, result.TransferSyntax);
                var response = result.Response!;
                Assert.Equal(version, response.Version);
                Assert.Equal(cmid, response.ClientMachineId);
                Assert.Equal(120u, response.ActivationInterval);
                Assert.Equal(10080u, response.RenewalInterval);
                Assert.InRange(response.CurrentCount, 1u, 50u);
                Assert.Equal(version == KmsProtocolVersion.V6, response.HwId is not null);
                Assert.Contains(response.Epid, farmEpids);
                Assert.Equal(epid ?? response.Epid, response.Epid);
                epid = response.Epid;
            }
        }
    }

    [Fact]
    public async Task Counts_reported_to_distinct_Windows_clients_climb_to_50_and_stop()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await InProcessNode.StartAsync(cancellationToken: ct);
        var product = ClientCatalog.Default.FindByKmsId(new Guid("58e2134f-8e11-4d17-9cb2-91069c151148"));
        Assert.Equal(25u, product.RequiredClientCount);
        var counts = new List<uint>();
        for (int i = 0; i < 55; i++)
        {
            await using var client = await KmsClientConnection.ConnectAsync("127.0.0.1", node.KmsEndPoint.Port, null, ct);
            var cmid = Guid.NewGuid();
            var result = await client.ActivateAsync(
                KmsProtocolVersion.V6, KmsRequestFactory.Create(product, cmid, "pc-" + i, KmsProtocolVersion.V6, DateTime.UtcNow), ct);
            Assert.True(result.Succeeded);
            counts.Add(result.Response!.CurrentCount);
        }

        Assert.Equal(Enumerable.Range(1, 50).Select(i => (uint)i).Concat(Enumerable.Repeat(50u, 5)), counts);
    }

    [Fact]
    public async Task A_pre_NDR64_host_build_turns_NDR64_off()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await InProcessNode.StartAsync(["--host-build", "7601"], cancellationToken: ct);
        Assert.Equal(7601, node.Services.GetRequiredService<NodeRuntime>().Identity.HostBuild);
        Assert.False(node.Services.GetRequiredService<NodeRuntime>().RpcOptions.Ndr64Enabled);
        await using var client = await KmsClientConnection.ConnectAsync("127.0.0.1", node.KmsEndPoint.Port, null, ct);
        Assert.False(client.Ndr64Negotiated);
        var product = ClientCatalog.Default.FindByKmsId(new Guid("58e2134f-8e11-4d17-9cb2-91069c151148"));
        for (int i = 0; i < 2; i++)
        {
            var result = await client.ActivateAsync(
                KmsProtocolVersion.V6, KmsRequestFactory.Create(product, Guid.NewGuid(), "pc", KmsProtocolVersion.V6, DateTime.UtcNow), ct);
            Assert.True(result.Succeeded);
            Assert.Equal(RpcTransferSyntax.Ndr32, result.TransferSyntax);
            // Windows 10 is answered with the Server 2025 CSVLK, which cannot be installed on 7601: its ePID claims 17763,
            // the oldest build it can be installed on.
            Assert.Contains("-17763.", result.Response!.Epid, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Configured_intervals_reach_the_client()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await InProcessNode.StartAsync(["--activation-interval", "60", "--renewal-interval", "1440"], cancellationToken: ct);
        await using var client = await KmsClientConnection.ConnectAsync("127.0.0.1", node.KmsEndPoint.Port, null, ct);
        var product = ClientCatalog.Default.FindByKmsId(new Guid("58e2134f-8e11-4d17-9cb2-91069c151148"));
        var result = await client.ActivateAsync(
            KmsProtocolVersion.V5, KmsRequestFactory.Create(product, Guid.NewGuid(), "pc", KmsProtocolVersion.V5, DateTime.UtcNow), ct);
        Assert.Equal(60u, result.Response!.ActivationInterval);
        Assert.Equal(1440u, result.Response.RenewalInterval);
    }

    private static ClientProduct[] SelectProducts(int count)
    {
        var catalog = ProductCatalog.Default;
        var volume = ClientCatalog.Default.Products
            .Where(p => catalog.TryGetProduct(p.KmsCountedId, out var kms) && !kms.IsRetail && !kms.IsPreview)
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ToArray();
        // Every group first, then evenly spread picks, so the matrix covers Windows, Office 2010 and Office 2013+.
        var picks = Enum.GetValues<ProductGroup>().Select(g => volume.First(p => p.Group == g)).ToList();
        int step = Math.Max(1, volume.Length / count);
        for (int i = 0; picks.Count < count && i < volume.Length; i += step)
        {
            if (!picks.Contains(volume[i]))
            {
                picks.Add(volume[i]);
            }
        }

        return [.. picks];
    }
}
