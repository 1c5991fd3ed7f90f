using System.Diagnostics.CodeAnalysis;
using System.Collections.Frozen;

namespace KmsFarm.Protocol.Catalog;

/// <summary>The products a KMS host knows: applications, CSVLKs, KMS counted ids, SKUs and host builds. Immutable and
/// thread-safe. <see cref="Default"/> is the catalog embedded in this assembly (generated from
/// Catalog/Data/sources, see Catalog/Data/README.md); <see cref="Load"/> reads a replacement.</summary>
public sealed partial class ProductCatalog
{
    private static readonly Lazy<ProductCatalog> DefaultCatalog = new(LoadEmbedded);

    private readonly FrozenDictionary<Guid, ApplicationInfo> _applications;
    private readonly FrozenDictionary<string, CsvlkInfo> _csvlks;
    private readonly FrozenDictionary<Guid, KmsProductInfo> _products;
    private readonly FrozenDictionary<string, SkuInfo> _skusByName;
    private readonly FrozenDictionary<Guid, SkuInfo> _skusById;
    private readonly FrozenDictionary<int, HostBuildInfo> _hostBuilds;
    private readonly FrozenDictionary<string, HostBuildInfo> _oldestHostBuilds;

    private ProductCatalog(
        IReadOnlyList<ApplicationInfo> applications,
        IReadOnlyList<CsvlkInfo> csvlks,
        IReadOnlyList<KmsProductInfo> products,
        IReadOnlyList<SkuInfo> skus,
        IReadOnlyList<HostBuildInfo> hostBuilds)
    {
        Applications = applications;
        Csvlks = csvlks;
        Products = products;
        Skus = skus;
        HostBuilds = hostBuilds;
        _applications = applications.ToFrozenDictionary(a => a.Id);
        _csvlks = csvlks.ToFrozenDictionary(c => c.Id, StringComparer.OrdinalIgnoreCase);
        _products = products.ToFrozenDictionary(p => p.Id);
        _skusById = skus.ToFrozenDictionary(s => s.Id);
        var byName = new Dictionary<string, SkuInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (var sku in skus)
        {
            foreach (var name in sku.Aliases.Prepend(sku.Name))
            {
                // First wins: names are unique in the generated data; Load rejects an alias that clashes.
                byName.TryAdd(name, sku);
            }
        }

        _skusByName = byName.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
        _hostBuilds = hostBuilds.ToFrozenDictionary(b => b.Build);
        KmsHostBuilds = hostBuilds.Where(b => b.UseForEpid).ToArray();
        _oldestHostBuilds = csvlks.ToFrozenDictionary(c => c.Id, FindOldestHostBuild, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The builds that can be KMS hosts (usable for an ePID), ascending.</summary>
    public IReadOnlyList<HostBuildInfo> KmsHostBuilds { get; }

    /// <summary>The oldest KMS host build <paramref name="csvlk"/> can be installed on: the build whose
    /// <see cref="HostBuildInfo.FirstCsvlks"/> names it; for a catalog that names it nowhere, the first KMS host build
    /// released on or after the CSVLK (else the newest).</summary>
    public HostBuildInfo GetOldestHostBuild(CsvlkInfo csvlk)
    {
        ArgumentNullException.ThrowIfNull(csvlk);
        return _oldestHostBuilds.TryGetValue(csvlk.Id, out var build) ? build : FindOldestHostBuild(csvlk);
    }

    /// <summary>True when <paramref name="hostBuild"/> is a KMS host build <paramref name="csvlk"/> can be installed on.</summary>
    public bool CanHost(HostBuildInfo hostBuild, CsvlkInfo csvlk)
    {
        ArgumentNullException.ThrowIfNull(hostBuild);
        return hostBuild.UseForEpid && hostBuild.Build >= GetOldestHostBuild(csvlk).Build;
    }

    /// <summary>The build an ePID of <paramref name="csvlk"/> claims on a farm of <paramref name="chosen"/>: the chosen
    /// build when the CSVLK can be installed there, else the oldest build it can be (a CSVLK newer than the host).</summary>
    public HostBuildInfo GetEpidHostBuild(CsvlkInfo csvlk, HostBuildInfo chosen) => CanHost(chosen, csvlk) ? chosen : GetOldestHostBuild(csvlk);

    private HostBuildInfo FindOldestHostBuild(CsvlkInfo csvlk) =>
        KmsHostBuilds.FirstOrDefault(b => b.FirstCsvlks.Contains(csvlk.Id, StringComparer.OrdinalIgnoreCase))
        ?? KmsHostBuilds.FirstOrDefault(b => b.ReleaseDate >= csvlk.ReleaseDate)
        ?? (KmsHostBuilds.Count > 0 ? KmsHostBuilds[^1] : throw new InvalidOperationException("The catalog has no KMS host build (useForEpid)."));

    /// <summary>The catalog embedded in KmsFarm.Protocol, loaded once.</summary>
    public static ProductCatalog Default => DefaultCatalog.Value;

    public IReadOnlyList<ApplicationInfo> Applications { get; }

    public IReadOnlyList<CsvlkInfo> Csvlks { get; }

    /// <summary>The KMS counted ids.</summary>
    public IReadOnlyList<KmsProductInfo> Products { get; }

    public IReadOnlyList<SkuInfo> Skus { get; }

    /// <summary>Host builds, ascending by build number.</summary>
    public IReadOnlyList<HostBuildInfo> HostBuilds { get; }

    public bool TryGetApplication(Guid applicationId, [NotNullWhen(true)] out ApplicationInfo? application) =>
        _applications.TryGetValue(applicationId, out application);

    public bool TryGetProduct(Guid kmsCountedId, [NotNullWhen(true)] out KmsProductInfo? product) =>
        _products.TryGetValue(kmsCountedId, out product);

    /// <summary>The CSVLK with this id (case-insensitive), or null.</summary>
    public CsvlkInfo? FindCsvlk(string csvlkId) => _csvlks.GetValueOrDefault(csvlkId);

    /// <summary>The CSVLK with this id; throws <see cref="KeyNotFoundException"/> naming it when absent.</summary>
    public CsvlkInfo GetCsvlk(string csvlkId) =>
        FindCsvlk(csvlkId) ?? throw new KeyNotFoundException($"The catalog has no CSVLK '{csvlkId}'.");

    /// <summary>The CSVLK whose ePID answers <paramref name="kmsCountedId"/>. A KMS id the catalog does not know is
    /// answered by the fallback CSVLK of <paramref name="applicationId"/> (of Windows when that is unknown too) and
    /// <paramref name="isFallback"/> is set.</summary>
    public CsvlkInfo ResolveCsvlk(Guid kmsCountedId, Guid applicationId, out bool isFallback)
    {
        if (_products.TryGetValue(kmsCountedId, out var product))
        {
            isFallback = false;
            return _csvlks[product.CsvlkId];
        }

        isFallback = true;
        return GetFallbackCsvlk(applicationId);
    }

    /// <summary>The fallback CSVLK of an application; of Windows for an unknown application.</summary>
    public CsvlkInfo GetFallbackCsvlk(Guid applicationId)
    {
        var application = _applications.GetValueOrDefault(applicationId)
            ?? Applications.First(a => a.Group == ProductGroup.Windows);
        return _csvlks[application.FallbackCsvlkId];
    }

    /// <summary>Finds a SKU by name, alias or id (GUID text), ignoring case; null when nothing matches.</summary>
    public SkuInfo? FindSku(string nameOrAliasOrGuid)
    {
        ArgumentNullException.ThrowIfNull(nameOrAliasOrGuid);
        string key = nameOrAliasOrGuid.Trim();
        if (Guid.TryParse(key, out var id))
        {
            return _skusById.GetValueOrDefault(id);
        }

        return _skusByName.GetValueOrDefault(key);
    }

    public bool TryGetHostBuild(int build, [NotNullWhen(true)] out HostBuildInfo? hostBuild) =>
        _hostBuilds.TryGetValue(build, out hostBuild);

    /// <summary>The host-build entry for <paramref name="build"/>; throws <see cref="KeyNotFoundException"/> listing the
    /// known builds when absent.</summary>
    public HostBuildInfo GetHostBuild(int build) =>
        _hostBuilds.GetValueOrDefault(build) ?? throw new KeyNotFoundException(
            $"Host build {build} is not in the catalog; known builds: {string.Join(", ", HostBuilds.Select(b => b.Build))}.");

    /// <summary>The application and group a product belongs to.</summary>
    public ApplicationInfo GetApplication(KmsProductInfo product) => _applications[product.ApplicationId];
}
