using KmsFarm.Client.Load;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Client.Tests;

public sealed class ProductMixTests
{
    [Theory]
    [InlineData(LoadMix.Default)]
    [InlineData(LoadMix.Windows)]
    [InlineData(LoadMix.Office)]
    [InlineData(LoadMix.Server)]
    public void Every_product_of_every_mix_is_in_the_catalog(LoadMix name)
    {
        var requested = ProductMix.RequestedSkuIds(name).ToArray();
        var mix = ProductMix.Create(name, ClientCatalog.Default.FindBySkuId);

        Assert.Equal(requested, mix.Entries.Select(e => e.Product.SkuId));
    }

    [Fact]
    public void Restricted_mixes_keep_only_their_kind()
    {
        var catalog = ClientCatalog.Default;
        Assert.All(ProductMix.Create(LoadMix.Windows, catalog.FindBySkuId).Entries, e =>
        {
            Assert.Equal(ProductGroup.Windows, e.Product.Group);
            Assert.False(e.Product.IsServer);
        });
        Assert.All(ProductMix.Create(LoadMix.Server, catalog.FindBySkuId).Entries, e => Assert.True(e.Product.IsServer));
        Assert.All(ProductMix.Create(LoadMix.Office, catalog.FindBySkuId).Entries, e => Assert.NotEqual(ProductGroup.Windows, e.Product.Group));
    }

    [Fact]
    public void Pick_follows_the_weights()
    {
        var mix = ProductMix.Create(LoadMix.Default, ClientCatalog.Default.FindBySkuId);
        double total = mix.Entries.Sum(e => e.Weight);

        // u just below each cumulative boundary picks that entry; at the boundary the next one.
        double cumulative = 0;
        foreach (var (product, weight) in mix.Entries)
        {
            Assert.Same(product, mix.Pick(cumulative / total + 1e-9));
            cumulative += weight;
            Assert.Same(product, mix.Pick(cumulative / total - 1e-9));
        }

        Assert.Same(mix.Entries[^1].Product, mix.Pick(0.9999999999));
    }

    [Fact]
    public void A_catalog_without_the_mixs_products_is_an_error()
    {
        var ex = Assert.Throws<InvalidOperationException>(() => ProductMix.Create(LoadMix.Office, _ => null));
        Assert.Contains("Office", ex.Message, StringComparison.Ordinal);
    }
}
