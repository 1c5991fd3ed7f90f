using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Identity;
using KmsFarm.TestKit;

namespace KmsFarm.Activation.Tests;

public class PolicyAndIdentityTests
{
    [Fact]
    public void Defaults_are_valid_and_genuine()
    {
        var options = new ActivationPolicyOptions();
        Assert.Empty(options.Validate(ProductCatalog.Default));
        Assert.Equal("Activation", ActivationPolicyOptions.SectionName);
        Assert.Equal(120, options.ActivationIntervalMinutes);
        Assert.Equal(10080, options.RenewalIntervalMinutes);
        Assert.False(options.StrictTimeCheck);
        Assert.Equal(TimeSpan.FromHours(4), options.MaxClockSkew);
        Assert.True(options.RefuseRetailAndPreview);
        Assert.False(options.RefuseUnknownProducts);
        Assert.Empty(options.ServedCsvlks);
        Assert.Equal(0, options.GetMinimumReportedCount(ProductGroup.Windows));
    }

    [Fact]
    public void Validation_names_each_bad_setting()
    {
        var options = new ActivationPolicyOptions
        {
            ActivationIntervalMinutes = 0,
            RenewalIntervalMinutes = 50000,
            MaxClockSkew = TimeSpan.Zero,
            MinimumReportedCount = { [ProductGroup.Office2010] = -1 },
            ServedCsvlks = ["WindowsServer2025", "Windows3.1"],
        };
        var errors = options.Validate(ProductCatalog.Default);
        Assert.Contains("Activation:ActivationIntervalMinutes must be between 15 and 43200 (was 0).", errors);
        Assert.Contains("Activation:RenewalIntervalMinutes must be between 15 and 43200 (was 50000).", errors);
        Assert.Contains(errors, m => m.StartsWith("Activation:MaxClockSkew", StringComparison.Ordinal));
        Assert.Contains(errors, m => m.StartsWith("Activation:MinimumReportedCount:Office2010", StringComparison.Ordinal));
        Assert.Contains(errors, m => m.StartsWith("Activation:ServedCsvlks:1 'Windows3.1'", StringComparison.Ordinal));
        Assert.Equal(5, errors.Count);

        var result = new ActivationPolicyOptionsValidator(ProductCatalog.Default).Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains("Activation:RenewalIntervalMinutes", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(new ActivationPolicyOptionsValidator(ProductCatalog.Default).Validate(null, new ActivationPolicyOptions()).Succeeded);
    }

    [Fact]
    public void Identity_has_one_epid_and_hwid_per_csvlk_on_one_build_and_lcid()
    {
        var catalog = ProductCatalog.Default;
        var clock = new ManualTimeProvider();
        var factory = new FarmIdentityFactory(catalog, clock, RandomSource.FromRandom(new Random(7)));
        Assert.Equal(26100, factory.DefaultHostBuild);
        var identity = factory.Create();
        Assert.Equal(26100, identity.HostBuild);
        Assert.Equal(1033, identity.Lcid);
        Assert.Equal(clock.GetUtcNow(), identity.Created);
        Assert.Equal(catalog.Csvlks.Select(c => c.Id), identity.Csvlks.Select(c => c.CsvlkId));
        Assert.Equal(identity.Csvlks.Count, identity.Csvlks.Select(c => c.HwId).Distinct().Count());
        foreach (var csvlkIdentity in identity.Csvlks)
        {
            var csvlk = catalog.GetCsvlk(csvlkIdentity.CsvlkId);
            var epid = EpidParser.Parse(csvlkIdentity.Epid);
            Assert.Equal(csvlk.GroupId, epid.GroupId);
            Assert.True(csvlk.ContainsKeyId(epid.KeyId));
            Assert.Equal(3612, epid.PlatformId);
            Assert.Equal(26100, epid.Build);
            Assert.Equal(1033, epid.Lcid);
            var earliest = new[] { csvlk.ReleaseDate, catalog.GetHostBuild(26100).ReleaseDate!.Value }.Max();
            Assert.InRange(epid.ActivationDate, earliest, DateOnly.FromDateTime(clock.GetUtcNow().UtcDateTime));
        }
    }

    [Fact]
    public void Identity_uses_the_configured_build_and_lcid_and_rejects_bad_ones()
    {
        var factory = new FarmIdentityFactory(ProductCatalog.Default, new ManualTimeProvider());
        var identity = factory.Create(hostBuild: 7601, lcid: 1031);
        Assert.Equal(7601, identity.HostBuild);
        Assert.All(identity.Csvlks, c => Assert.Contains("-1031-", c.Epid, StringComparison.Ordinal));
        var server2008R2 = identity.Csvlks.Single(c => c.CsvlkId == "WindowsServer2008R2B").Epid;
        Assert.StartsWith("55041-", server2008R2, StringComparison.Ordinal);
        Assert.Contains("-1031-7601.0000-", server2008R2, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => factory.Create(hostBuild: 12345));
        Assert.Throws<ArgumentException>(() => factory.Create(lcid: 1));
        Assert.Throws<ArgumentException>(() => factory.Create(hostBuild: 18362)); // no release date
        Assert.Throws<ArgumentException>(() => factory.Create(hostBuild: 22000)); // Windows 11: not a KMS host build
    }
}
