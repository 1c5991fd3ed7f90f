using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Identity;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Activation;

/// <summary>Creates a farm's identity: one host build and one LCID for the whole farm, and per CSVLK of the catalog a
/// synthesised ePID (on a build that CSVLK can be installed on) and a random 8-byte HwId. The store keeps the first identity created, so this runs once per farm.</summary>
public sealed class FarmIdentityFactory
{
    /// <summary>Preferred default host builds, newest first: the first one the catalog has with a release date wins.</summary>
    public static readonly IReadOnlyList<int> PreferredHostBuilds = [26100, 20348, 17763];

    private readonly ProductCatalog _catalog;
    private readonly TimeProvider _timeProvider;
    private readonly RandomSource _random;
    private readonly EpidGenerator _epids;

    public FarmIdentityFactory(ProductCatalog catalog, TimeProvider timeProvider, RandomSource? random = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _catalog = catalog;
        _timeProvider = timeProvider;
        _random = random ?? RandomSource.Crypto;
        _epids = new EpidGenerator(_random);
    }

    /// <summary>The build used when none is configured: 26100 if the catalog has it with a release date, else 20348,
    /// else 17763.</summary>
    public int DefaultHostBuild =>
        PreferredHostBuilds.FirstOrDefault(b => _catalog.TryGetHostBuild(b, out var info) && info.UseForEpid) is var build and > 0
            ? build
            : throw new InvalidOperationException("The catalog has none of the default host builds " + string.Join(", ", PreferredHostBuilds) + ".");

    /// <summary>Creates an identity. <paramref name="hostBuild"/> null = <see cref="DefaultHostBuild"/>. Each CSVLK's
    /// ePID claims the farm's build when the CSVLK can be installed on it, else the oldest build it can be installed on
    /// (<see cref="ProductCatalog.GetEpidHostBuild"/>; <see cref="NewerCsvlks"/> lists those).</summary>
    /// <exception cref="ArgumentException">The build is not a KMS host build of the catalog, or the LCID is not valid
    /// (the message names the value).</exception>
    public FarmIdentity Create(int? hostBuild = null, int lcid = KnownLcids.EnglishUnitedStates)
    {
        int build = hostBuild ?? DefaultHostBuild;
        if (!_catalog.TryGetHostBuild(build, out var buildInfo) || !buildInfo.UseForEpid)
        {
            throw new ArgumentException(
                $"Host build {build} is not a KMS host build of the catalog; use one of {string.Join(", ", _catalog.KmsHostBuilds.Select(b => b.Build))}.",
                nameof(hostBuild));
        }

        if (!KnownLcids.IsValid(lcid))
        {
            throw new ArgumentException($"LCID {lcid} is not a valid Windows locale id.", nameof(lcid));
        }

        var now = _timeProvider.GetUtcNow();
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var csvlks = new List<CsvlkIdentity>(_catalog.Csvlks.Count);
        Span<byte> hwid = stackalloc byte[HardwareId.Size];
        foreach (var csvlk in _catalog.Csvlks)
        {
            var epid = _epids.Generate(csvlk, _catalog.GetEpidHostBuild(csvlk, buildInfo), lcid, today);
            _random.NextBytes(hwid);
            csvlks.Add(new CsvlkIdentity(csvlk.Id, epid.ToString(), HardwareId.Read(hwid)));
        }

        return new FarmIdentity(build, lcid, now, csvlks);
    }

    /// <summary>The CSVLKs that cannot be installed on <paramref name="hostBuild"/> (newer than it), each with the build
    /// its ePID claims instead, oldest build first.</summary>
    public IReadOnlyList<(CsvlkInfo Csvlk, int EpidBuild)> NewerCsvlks(int hostBuild) =>
        _catalog.TryGetHostBuild(hostBuild, out var chosen)
            ? _catalog.Csvlks.Where(c => !_catalog.CanHost(chosen, c)).Select(c => (c, _catalog.GetOldestHostBuild(c).Build))
                .OrderBy(x => x.Item2).ThenBy(x => x.c.Id, StringComparer.Ordinal).ToArray()
            : [];
}
