using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client;

/// <summary>The products a simulated client can run: the SKUs of a <see cref="ProductCatalog"/> joined with their KMS
/// counted id (N_Policy, group, default protocol). Looked up by name, alias, SKU id or KMS counted id.</summary>
public sealed class ClientCatalog
{
    private static readonly Lazy<ClientCatalog> DefaultCatalog = new(() => new ClientCatalog(ProductCatalog.Default));

    private readonly ProductCatalog _catalog;
    private readonly Dictionary<Guid, ClientProduct> _bySku = [];

    public ClientCatalog(ProductCatalog catalog)
    {
        _catalog = catalog;
        var products = new List<ClientProduct>();
        foreach (var sku in catalog.Skus)
        {
            if (catalog.TryGetProduct(sku.KmsCountedId, out var kms) && kms.DefaultProtocol is >= 4 and <= 6)
            {
                var product = new ClientProduct(
                    sku.Name, sku.Id, kms.Id, kms.ApplicationId, kms.Group, (uint)kms.NPolicy, (KmsProtocolVersion)kms.DefaultProtocol, sku.Aliases);
                products.Add(product);
                _bySku.TryAdd(sku.Id, product);
            }
        }

        Products = products;
    }

    /// <summary>Built from <see cref="ProductCatalog.Default"/>.</summary>
    public static ClientCatalog Default => DefaultCatalog.Value;

    public IReadOnlyList<ClientProduct> Products { get; }

    /// <summary>A product by name or alias (case-insensitive) or by SKU id in GUID form.</summary>
    public ClientProduct? FindByName(string name) =>
        _catalog.FindSku(name) is { } sku ? FindBySkuId(sku.Id) : null;

    public ClientProduct? FindBySkuId(Guid skuId) => _bySku.GetValueOrDefault(skuId);

    /// <summary>The first SKU counted under <paramref name="kmsCountedId"/>; for a KMS id without SKUs, a stand-in product
    /// (the KMS id as SKU id; application, N_Policy and protocol from the catalog when it knows the KMS id, else Windows,
    /// 25, V6) so that a host's reaction to any id can be tested.</summary>
    public ClientProduct FindByKmsId(Guid kmsCountedId)
    {
        if (Products.FirstOrDefault(p => p.KmsCountedId == kmsCountedId) is { } product)
        {
            return product;
        }

        return _catalog.TryGetProduct(kmsCountedId, out var kms) && kms.DefaultProtocol is >= 4 and <= 6
            ? new ClientProduct(kms.Name, kmsCountedId, kmsCountedId, kms.ApplicationId, kms.Group, (uint)kms.NPolicy, (KmsProtocolVersion)kms.DefaultProtocol)
            : new ClientProduct($"Unknown KMS id {kmsCountedId}", kmsCountedId, kmsCountedId, KmsApplicationIds.Windows, ProductGroup.Windows, 25, KmsProtocolVersion.V6);
    }

    /// <summary>Names and aliases containing <paramref name="text"/>, for "did you mean" hints.</summary>
    public IEnumerable<string> Suggest(string text, int max = 5) => text.Trim().Length < 3 ? [] : Products
        .SelectMany(p => p.Aliases.Prepend(p.Name))
        .Where(n => n.Contains(text.Trim(), StringComparison.OrdinalIgnoreCase))
        .Take(max);
}
