namespace KmsFarm.Client.Load;

/// <summary>A weighted choice of products for a simulated population. The weights (per mille of the default mix) are a
/// guess at a typical enterprise lab: Windows 10/11 Pro and Enterprise dominate, a tenth are servers, a fifth run Office.</summary>
public sealed class ProductMix
{
    private enum Kind
    {
        Desktop,
        Server,
        Office,
    }

    // SKU (activation) ids are Microsoft's and the same in every catalog source; names come from the catalog.
    private static readonly (Guid SkuId, int Weight, Kind Kind)[] Table =
    [
        (new("2de67392-b7a7-462a-b1ca-108dd189f588"), 330, Kind.Desktop), // Windows 10/11 Pro
        (new("73111121-5638-40f6-bc11-f1d7b0d64300"), 220, Kind.Desktop), // Windows 10/11 Enterprise
        (new("e0c42288-980c-4788-a014-c080d2e1926e"), 60, Kind.Desktop),  // Windows 10/11 Education
        (new("32d2fab3-e4a8-42c2-923b-4bf4fd13e6ee"), 40, Kind.Desktop),  // Windows 10 Enterprise LTSC 2019
        (new("c06b6981-d7fd-4a35-b7b4-054742b7af67"), 20, Kind.Desktop),  // Windows 8.1 Pro
        (new("b92e9980-b9d5-4821-9c94-140f632f6312"), 20, Kind.Desktop),  // Windows 7 Professional (V4)
        (new("de32eafd-aaee-4662-9444-c1befb41bde2"), 35, Kind.Server),   // Windows Server 2019 Standard
        (new("34e1ae55-27f8-4950-8877-7a03be5fb181"), 20, Kind.Server),   // Windows Server 2019 Datacenter
        (new("8c1c5410-9f39-4805-8c9d-63a07706358f"), 15, Kind.Server),   // Windows Server 2016 Standard
        (new("b3ca044e-a358-4d68-9883-aaa2941aca99"), 10, Kind.Server),   // Windows Server 2012 R2 Standard
        (new("f0f5ec41-0d55-4732-af02-440a44a3cf0f"), 5, Kind.Server),    // Windows Server 2012 Standard (V5)
        (new("ef6cfc9f-8c5d-44ac-9aad-de6a2ea0ae03"), 15, Kind.Server),   // Windows Server 2022 Datacenter
        (new("85dd8b5f-eaa4-4af3-a628-cce9e77c9a03"), 80, Kind.Office),   // Office 2019 Professional Plus
        (new("d450596f-894d-49e0-966a-fd39ed4c4c64"), 60, Kind.Office),   // Office 2016 Professional Plus
        (new("fbdb3e18-a8ef-4fb3-9183-dffd60bd0984"), 40, Kind.Office),   // Office LTSC 2021 Professional Plus
        (new("b322da9c-a2e2-4058-9e4e-f59a6970bd69"), 20, Kind.Office),   // Office 2013 Professional Plus (V5)
        (new("6f327760-8c5c-417c-9b61-836a98287e0c"), 10, Kind.Office),   // Office 2010 Professional Plus (V4)
    ];

    private readonly double[] _cumulative;

    private ProductMix(LoadMix name, IReadOnlyList<(ClientProduct Product, int Weight)> entries)
    {
        Name = name;
        Entries = entries;
        _cumulative = new double[entries.Count];
        double total = entries.Sum(e => e.Weight);
        double running = 0;
        for (int i = 0; i < entries.Count; i++)
        {
            running += entries[i].Weight;
            _cumulative[i] = running / total;
        }
    }

    public LoadMix Name { get; }

    public IReadOnlyList<(ClientProduct Product, int Weight)> Entries { get; }

    /// <summary>Builds <paramref name="mix"/> from the products <paramref name="findSku"/> knows (by SKU id); entries
    /// the catalog lacks are left out. Throws when none is left.</summary>
    public static ProductMix Create(LoadMix mix, Func<Guid, ClientProduct?> findSku)
    {
        var entries = new List<(ClientProduct, int)>();
        foreach (var (skuId, weight, kind) in Table)
        {
            bool included = mix switch
            {
                LoadMix.Windows => kind == Kind.Desktop,
                LoadMix.Office => kind == Kind.Office,
                LoadMix.Server => kind == Kind.Server,
                _ => true,
            };
            if (included && findSku(skuId) is { } product)
            {
                entries.Add((product, weight));
            }
        }

        return entries.Count > 0
            ? new ProductMix(mix, entries)
            : throw new InvalidOperationException($"The product catalog has none of the products of the '{mix}' mix.");
    }

    /// <summary>The SKU ids the mix asks for, whether or not the catalog has them.</summary>
    public static IEnumerable<Guid> RequestedSkuIds(LoadMix mix) => Table
        .Where(e => mix == LoadMix.Default || (mix, e.Kind) is (LoadMix.Windows, Kind.Desktop) or (LoadMix.Office, Kind.Office) or (LoadMix.Server, Kind.Server))
        .Select(e => e.SkuId);

    /// <summary>Picks a product for a uniform <paramref name="u"/> in [0, 1).</summary>
    public ClientProduct Pick(double u)
    {
        int index = Array.BinarySearch(_cumulative, u);
        index = index < 0 ? ~index : index + 1;
        return Entries[Math.Min(index, Entries.Count - 1)].Product;
    }
}
