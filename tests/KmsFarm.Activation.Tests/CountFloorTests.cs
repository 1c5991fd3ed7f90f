using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation.Tests;

/// <summary>The lab floor (<see cref="ActivationPolicyOptions.MinimumReportedCount"/>) lets a lab activate its first
/// clients without 25 machines, but the count a client is told never exceeds what the group's cache can hold: old clients
/// fail (0x80070216) when told more than a host can count.</summary>
public sealed class CountFloorTests
{
    private static readonly Guid WindowsApp = ActivationHarness.WindowsApp;
    private static readonly Guid Server2008 = Guid.Parse("8fe53387-3087-4447-8985-f75132215ac9");

    [Fact]
    public async Task A_fresh_node_tells_a_server_2008_client_no_more_than_its_capacity()
    {
        var options = new ActivationPolicyOptions { MinimumReportedCount = { [ProductGroup.Windows] = 50 } };
        await using var h = new ActivationHarness(options);

        // N_Policy 5: the cache holds 10; the floor of 50 is cut to that.
        Assert.Equal(10, await h.CountAsync(WindowsApp, Server2008, nPolicy: 5));
        // A Windows client raises the capacity to 50: the floor applies in full.
        Assert.Equal(50, await h.CountAsync(WindowsApp, ActivationHarness.Windows10));
    }

    [Theory]
    [InlineData(ProductGroup.Windows, 51)]
    [InlineData(ProductGroup.Windows, 1000)]
    [InlineData(ProductGroup.Office2010, 11)]
    [InlineData(ProductGroup.Office2013Plus, 2000)]
    public void A_floor_above_the_groups_capacity_is_refused_naming_the_setting(ProductGroup group, int floor)
    {
        var options = new ActivationPolicyOptions { MinimumReportedCount = { [group] = floor } };
        var errors = options.Validate(ProductCatalog.Default);
        Assert.Contains(errors, e => e.StartsWith($"Activation:MinimumReportedCount:{group} is {floor}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(ProductGroup.Windows, 50)]
    [InlineData(ProductGroup.Windows, 25)]
    [InlineData(ProductGroup.Office2010, 10)]
    [InlineData(ProductGroup.Office2013Plus, 5)]
    public void A_floor_within_the_groups_capacity_is_accepted(ProductGroup group, int floor) =>
        Assert.Empty(new ActivationPolicyOptions { MinimumReportedCount = { [group] = floor } }.Validate(ProductCatalog.Default));

    /// <summary>The whole kind: whatever the floor and whatever N_Policy the clients send (0 included, which the protocol
    /// layer lets through), the reported count is at most the cache's capacity and at least the real count.</summary>
    [Theory]
    [InlineData(50, new[] { 5, 5, 25, 5 })]
    [InlineData(50, new[] { 0, 0, 1, 5, 25 })]
    [InlineData(10, new[] { 1, 2, 3, 4, 5, 0 })]
    [InlineData(25, new[] { 25, 25, 25 })]
    public async Task The_reported_count_never_exceeds_the_capacity(int floor, int[] nPolicies)
    {
        var options = new ActivationPolicyOptions { MinimumReportedCount = { [ProductGroup.Windows] = floor } };
        await using var h = new ActivationHarness(options);
        int maxNPolicy = 0;
        int real = 0;
        foreach (int nPolicy in nPolicies)
        {
            maxNPolicy = Math.Max(maxNPolicy, nPolicy);
            int capacity = Math.Max(1, 2 * maxNPolicy);
            real = Math.Min(real + 1, capacity);
            int reported = await h.CountAsync(WindowsApp, ActivationHarness.Windows10, nPolicy: nPolicy);
            Assert.InRange(reported, real, capacity);
            Assert.Equal(Math.Min(Math.Max(real, floor), capacity), reported);
        }
    }
}
