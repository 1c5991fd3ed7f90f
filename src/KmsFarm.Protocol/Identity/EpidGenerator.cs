using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Protocol.Identity;

/// <summary>Synthesises ePIDs the way a genuine host's would look (PROTOCOL-NOTES §7): the CSVLK's group id, a key id
/// drawn uniformly from the CSVLK's key blocks (never from a hole between them), the host build's platform id, a valid
/// LCID and an activation date between max(CSVLK release, build release) and today.</summary>
public sealed class EpidGenerator
{
    private readonly RandomSource _random;

    /// <param name="random">The random source; <see cref="RandomSource.Crypto"/> when null.</param>
    public EpidGenerator(RandomSource? random = null)
    {
        _random = random ?? RandomSource.Crypto;
    }

    /// <summary>Builds an ePID for <paramref name="csvlk"/> on a host of <paramref name="hostBuild"/>.</summary>
    /// <exception cref="ArgumentException">The LCID is not valid, the build has no release date, or the earliest
    /// possible date lies after <paramref name="today"/>.</exception>
    public Epid Generate(CsvlkInfo csvlk, HostBuildInfo hostBuild, int lcid, DateOnly today)
    {
        ArgumentNullException.ThrowIfNull(csvlk);
        ArgumentNullException.ThrowIfNull(hostBuild);
        if (!KnownLcids.IsValid(lcid))
        {
            throw new ArgumentException($"LCID {lcid} is not a valid Windows locale id for an ePID.", nameof(lcid));
        }

        if (hostBuild.ReleaseDate is not { } buildRelease)
        {
            throw new ArgumentException($"Host build {hostBuild.Build} has no release date, so it cannot be used for an ePID.", nameof(hostBuild));
        }

        var earliest = csvlk.ReleaseDate > buildRelease ? csvlk.ReleaseDate : buildRelease;
        if (earliest > today)
        {
            throw new ArgumentException(
                $"No ePID date is possible: CSVLK {csvlk.Id} / build {hostBuild.Build} are released {earliest:yyyy-MM-dd}, after {today:yyyy-MM-dd}.",
                nameof(today));
        }

        var date = earliest.AddDays((int)_random.NextInt64(0, today.DayNumber - earliest.DayNumber + 1L));
        return new Epid(hostBuild.PlatformId, csvlk.GroupId, NextKeyId(csvlk), lcid, hostBuild.Build, date);
    }

    private int NextKeyId(CsvlkInfo csvlk)
    {
        long total = 0;
        foreach (var block in csvlk.KeyBlocks)
        {
            total += block.Count;
        }

        long pick = _random.NextInt64(0, total);
        foreach (var block in csvlk.KeyBlocks)
        {
            if (pick < block.Count)
            {
                return (int)(block.First + pick);
            }

            pick -= block.Count;
        }

        throw new InvalidOperationException("unreachable: the pick lies inside the total of the blocks");
    }
}
