using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Identity;

namespace KmsFarm.Protocol.Tests.Identity;

public class EpidTests
{
    private static readonly DateOnly Today = new(2026, 1, 15);

    public static TheoryData<string> CsvlkIds => [.. ProductCatalog.Default.Csvlks.Select(c => c.Id)];

    public static TheoryData<int> EpidBuilds => [.. ProductCatalog.Default.HostBuilds.Where(b => b.UseForEpid).Select(b => b.Build)];

    [Theory]
    [MemberData(nameof(CsvlkIds))]
    public void Generated_epids_have_the_csvlk_group_a_key_inside_a_block_and_a_date_in_bounds(string csvlkId)
    {
        var catalog = ProductCatalog.Default;
        var csvlk = catalog.GetCsvlk(csvlkId);
        var generator = new EpidGenerator(RandomSource.FromRandom(new Random(csvlkId.Length * 7919)));
        foreach (var hostBuild in catalog.HostBuilds.Where(b => b.UseForEpid))
        {
            for (int i = 0; i < 50; i++)
            {
                var epid = generator.Generate(csvlk, hostBuild, 1033, Today);
                Assert.Equal(csvlk.GroupId, epid.GroupId);
                Assert.True(csvlk.ContainsKeyId(epid.KeyId), $"{csvlkId}: key id {epid.KeyId} outside the key blocks");
                Assert.Equal(hostBuild.PlatformId, epid.PlatformId);
                Assert.Equal(hostBuild.Build, epid.Build);
                var earliest = new[] { csvlk.ReleaseDate, hostBuild.ReleaseDate!.Value }.Max();
                Assert.InRange(epid.ActivationDate, earliest, Today);

                string text = epid.ToString();
                Assert.Equal(epid, EpidParser.Parse(text));
                Assert.True(text.Length <= EpidParser.MaxLength);
            }
        }
    }

    [Fact]
    public void Key_ids_are_drawn_from_every_block_but_never_from_a_hole()
    {
        var csvlk = ProductCatalog.Default.GetCsvlk("WindowsServer2022");
        var build = ProductCatalog.Default.GetHostBuild(20348);
        var generator = new EpidGenerator(RandomSource.FromRandom(new Random(1)));
        var keys = Enumerable.Range(0, 20_000).Select(_ => generator.Generate(csvlk, build, 1033, Today).KeyId).ToArray();
        Assert.DoesNotContain(keys, k => k is >= 20_000 and < 30_000);
        Assert.Contains(keys, k => k < 20_000);
        Assert.Contains(keys, k => k >= 30_000);
    }

    [Fact]
    public void Format_matches_the_reference_layout()
    {
        var epid = new Epid(3612, 206, 556_123_727, 1033, 17763, new DateOnly(2018, 10, 24));
        Assert.Equal("03612-00206-556-123727-03-1033-17763.0000-2972018", epid.ToString());
        var office2010 = new Epid(3612, 96, 199_000_005, 10241, 17763, new DateOnly(2020, 1, 1));
        Assert.Equal("03612-00096-199-000005-03-10241-17763.0000-0012020", office2010.ToString());
        Assert.Equal(50, office2010.ToString().Length); // a 5-digit LCID makes the ePID 50 characters long
    }

    [Theory]
    [InlineData("03612-00206-556-123727-03-1033-17763.0000-2972018", 3612, 206, 556123727, 1033, 17763, 2018, 297)]
    [InlineData("06401-00096-208-497764-03-1033-9600.0000-2802018", 6401, 96, 208497764, 1033, 9600, 2018, 280)]
    [InlineData("03612-00206-561-854032-03-4108-14393.0000-1452024", 3612, 206, 561854032, 4108, 14393, 2024, 145)]
    [InlineData("03612-04919-000-012345-03-1033-26100.0000-3662024", 3612, 4919, 12345, 1033, 26100, 2024, 366)]
    public void Parser_reads_real_epids(string text, int platform, int group, int key, int lcid, int build, int year, int day)
    {
        var epid = EpidParser.Parse(text);
        Assert.Equal(new Epid(platform, group, key, lcid, build, new DateOnly(year, 1, 1).AddDays(day - 1)), epid);
        Assert.Equal(text, epid.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("03612-00206-556-123727-03-1033-17763.0000")]
    [InlineData("3612-00206-556-123727-03-1033-17763.0000-2972018")]
    [InlineData("03612-00206-556-123727-02-1033-17763.0000-2972018")]
    [InlineData("03612-00206-55a-123727-03-1033-17763.0000-2972018")]
    [InlineData("03612-00206-556-123727-03-01033-17763.0000-2972018")]
    [InlineData("03612-00206-556-123727-03-1033-17763.0001-2972018")]
    [InlineData("03612-00206-556-123727-03-1033-17763.0000-3662018")]
    [InlineData("03612-00206-556-123727-03-1033-17763.0000-0002018")]
    [InlineData("03612-00206-556-123727-03-1033-17763.0000-297218")]
    [InlineData("03612-00206-556-123727-03-1033-17763.0000-2972018-")]
    [InlineData("０3612-00206-556-123727-03-1033-17763.0000-2972018")]
    public void Parser_rejects_malformed_epids(string text)
    {
        Assert.False(EpidParser.TryParse(text, out _, out string error));
        Assert.NotEmpty(error);
        Assert.Throws<FormatException>(() => EpidParser.Parse(text));
    }

    [Fact]
    public void Generator_validates_its_inputs()
    {
        var catalog = ProductCatalog.Default;
        var generator = new EpidGenerator(RandomSource.FromRandom(new Random(3)));
        var csvlk = catalog.GetCsvlk("WindowsServer2025");
        var e = Assert.Throws<ArgumentException>(() => generator.Generate(csvlk, catalog.GetHostBuild(26100), 9999, Today));
        Assert.Contains("9999", e.Message, StringComparison.Ordinal);
        var undated = catalog.HostBuilds.First(b => b.ReleaseDate is null);
        Assert.Throws<ArgumentException>(() => generator.Generate(csvlk, undated, 1033, Today));
        Assert.Throws<ArgumentException>(() => generator.Generate(csvlk, catalog.GetHostBuild(26100), 1033, new DateOnly(2024, 10, 31)));
        Assert.Equal(new DateOnly(2024, 11, 1),
            generator.Generate(csvlk, catalog.GetHostBuild(26100), 1033, new DateOnly(2024, 11, 1)).ActivationDate);
    }

    [Fact]
    public void Every_known_lcid_is_accepted_and_the_list_has_158_values()
    {
        Assert.Equal(158, KnownLcids.All.Count);
        Assert.Equal(158, KnownLcids.All.Distinct().Count());
        var generator = new EpidGenerator(RandomSource.FromRandom(new Random(4)));
        var csvlk = ProductCatalog.Default.GetCsvlk("Office2016");
        var build = ProductCatalog.Default.GetHostBuild(17763);
        foreach (int lcid in KnownLcids.All)
        {
            Assert.Equal(lcid, EpidParser.Parse(generator.Generate(csvlk, build, lcid, Today).ToString()).Lcid);
        }
    }

    [Fact]
    public void Crypto_random_source_stays_in_range()
    {
        var source = RandomSource.Crypto;
        for (int i = 0; i < 1000; i++)
        {
            Assert.InRange(source.NextInt64(10, 20), 10, 19);
            Assert.InRange(source.NextInt64(0, 5_000_000_000), 0, 4_999_999_999);
        }
    }
}
