using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Identity;
using KmsFarm.TestKit;

namespace KmsFarm.Activation.Tests;

/// <summary>Each CSVLK's ePID claims a host build that CSVLK can be installed on: the farm's build when it can, else the
/// oldest one it can (a Windows Server 2025 CSVLK on a Server 2008 R2 host cannot exist).</summary>
public sealed class HostBuildTests
{
    private static ProductCatalog Catalog => ProductCatalog.Default;

    public static TheoryData<int> KmsHostBuilds => [.. ProductCatalog.Default.HostBuilds.Where(b => b.UseForEpid).Select(b => b.Build)];

    [Fact]
    public void On_a_server_2008_r2_host_the_server_2025_csvlk_claims_the_oldest_build_it_can_be_installed_on()
    {
        var identity = new FarmIdentityFactory(Catalog, new ManualTimeProvider(), RandomSource.FromRandom(new Random(3))).Create(hostBuild: 7601);

        var server2025 = EpidParser.Parse(identity.Csvlks.Single(c => c.CsvlkId == "WindowsServer2025").Epid);
        Assert.Equal((4919, 17763, 3612), (server2025.GroupId, server2025.Build, server2025.PlatformId));
        var server2008R2 = EpidParser.Parse(identity.Csvlks.Single(c => c.CsvlkId == "WindowsServer2008R2B").Epid);
        Assert.Equal((7601, 55041), (server2008R2.Build, server2008R2.PlatformId));
        Assert.Equal(7601, identity.HostBuild);
    }

    /// <summary>The whole kind: every KMS host build, every CSVLK.</summary>
    [Theory]
    [MemberData(nameof(KmsHostBuilds))]
    public void Every_epid_claims_a_build_its_csvlk_can_be_installed_on(int hostBuild)
    {
        var chosen = Catalog.GetHostBuild(hostBuild);
        var identity = new FarmIdentityFactory(Catalog, new ManualTimeProvider(), RandomSource.FromRandom(new Random(hostBuild))).Create(hostBuild);
        foreach (var csvlkIdentity in identity.Csvlks)
        {
            var csvlk = Catalog.GetCsvlk(csvlkIdentity.CsvlkId);
            var epid = EpidParser.Parse(csvlkIdentity.Epid);
            var claimed = Catalog.GetHostBuild(epid.Build);
            Assert.True(Catalog.CanHost(claimed, csvlk), $"{csvlk.Id} claims {epid.Build}, where it cannot be installed");
            Assert.Equal(Catalog.CanHost(chosen, csvlk) ? hostBuild : Catalog.GetOldestHostBuild(csvlk).Build, epid.Build);
            Assert.Equal(claimed.PlatformId, epid.PlatformId);
        }
    }

    /// <summary>Microsoft's "CSVLK can be hosted on" table (KMS activation planning) for the Windows Server CSVLKs, and the
    /// Windows 10 CSVLK on Windows 7 and later.</summary>
    [Theory]
    [InlineData("WindowsServer2025", 17763)]
    [InlineData("WindowsServer2022", 14393)]
    [InlineData("WindowsServer2019", 9600)]
    [InlineData("WindowsServer2016", 9200)]
    [InlineData("Windows10v2015", 7601)]
    [InlineData("WindowsServer2008R2B", 6002)]
    [InlineData("Office2010", 6002)]
    [InlineData("Office2024", 17763)]
    public void The_oldest_host_build_of_a_csvlk(string csvlk, int build) =>
        Assert.Equal(build, Catalog.GetOldestHostBuild(Catalog.GetCsvlk(csvlk)).Build);

    [Fact]
    public void Every_csvlk_can_be_installed_on_the_default_build() =>
        Assert.All(Catalog.Csvlks, c => Assert.True(Catalog.CanHost(Catalog.GetHostBuild(26100), c), c.Id));

    [Theory]
    [InlineData(10240)]
    [InlineData(22000)]
    [InlineData(26200)]
    public void A_build_no_kms_host_runs_is_refused(int build) =>
        Assert.Throws<ArgumentException>(() => new FarmIdentityFactory(Catalog, new ManualTimeProvider()).Create(build));
}
