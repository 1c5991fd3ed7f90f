using static KmsFarm.Activation.Tests.ActivationHarness;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation.Tests;

/// <summary>The CMID cache semantics, observed through ActivationService and the in-memory store with a moved clock.</summary>
public class LedgerThroughServiceTests
{
    [Fact]
    public async Task Twenty_five_windows_clients_count_one_to_twenty_five()
    {
        await using var h = new ActivationHarness();
        var counts = new List<int>();
        for (int i = 0; i < 25; i++)
        {
            counts.Add(await h.CountAsync(WindowsApp, Windows10));
            h.Clock.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.Equal(Enumerable.Range(1, 25), counts);
        Assert.True(Catalog.TryGetProduct(Windows10, out var product));
        Assert.Equal(product.NPolicy, counts[^1]);
    }

    [Theory]
    [InlineData("Windows", "8449b1fb-f0ea-497a-99ab-66ca96e9a0f5")]
    [InlineData("Office2013Plus", "85b5f61b-320b-4be3-814a-b76b2bfafc82")]
    [InlineData("Office2010", "e85af946-2e25-47b7-83e1-bebcebeac611")]
    public async Task Server_and_office_reach_their_n_policy_of_5(string group, string kmsId)
    {
        await using var h = new ActivationHarness();
        var app = Catalog.Applications.Single(a => a.Group.ToString() == group).Id;
        var counts = new List<int>();
        for (int i = 0; i < 5; i++)
        {
            counts.Add(await h.CountAsync(app, Guid.Parse(kmsId), nPolicy: 5));
        }

        Assert.Equal([1, 2, 3, 4, 5], counts);
        Assert.True(Catalog.TryGetProduct(Guid.Parse(kmsId), out var product));
        Assert.Equal(5, product.NPolicy);
    }

    [Fact]
    public async Task Windows_saturates_at_50_and_office_at_10()
    {
        await using var h = new ActivationHarness();
        var windows = new List<int>();
        for (int i = 0; i < 60; i++)
        {
            windows.Add(await h.CountAsync(WindowsApp, Windows10));
        }

        Assert.Equal(Enumerable.Range(1, 50).Concat(Enumerable.Repeat(50, 10)), windows);

        var office = new List<int>();
        for (int i = 0; i < 13; i++)
        {
            office.Add(await h.CountAsync(Office2013App, Office2016, nPolicy: 5));
        }

        Assert.Equal(Enumerable.Range(1, 10).Concat(Enumerable.Repeat(10, 3)), office);
        var ledger = await h.Store.GetLedgerAsync(ProductGroup.Windows, h.Clock.GetUtcNow(), TestContext.Current.CancellationToken);
        Assert.Equal(50, ledger.Capacity);
        Assert.Equal(50, ledger.Count);
    }

    [Fact]
    public async Task A_server_request_after_client_saturation_sees_the_shared_windows_count()
    {
        await using var h = new ActivationHarness();
        for (int i = 0; i < 60; i++)
        {
            await h.CountAsync(WindowsApp, Windows10);
        }

        Assert.Equal(50, await h.CountAsync(WindowsApp, Server2019, nPolicy: 5));
    }

    [Fact]
    public async Task Renewals_do_not_add()
    {
        await using var h = new ActivationHarness();
        var first = Guid.NewGuid();
        Assert.Equal(1, await h.CountAsync(WindowsApp, Windows10, first));
        Assert.Equal(2, await h.CountAsync(WindowsApp, Windows10));
        Assert.Equal(3, await h.CountAsync(WindowsApp, Windows10));
        h.Clock.Advance(TimeSpan.FromDays(7));
        Assert.Equal(3, await h.CountAsync(WindowsApp, Windows10, first));
        Assert.Equal(3, await h.CountAsync(WindowsApp, Windows10, first));
    }

    [Fact]
    public async Task Entries_expire_after_30_days_and_the_count_goes_down()
    {
        await using var h = new ActivationHarness();
        for (int i = 0; i < 5; i++)
        {
            await h.CountAsync(WindowsApp, Windows10);
        }

        h.Clock.Advance(TimeSpan.FromDays(20));
        var renewed = Guid.NewGuid();
        Assert.Equal(6, await h.CountAsync(WindowsApp, Windows10, renewed));
        Assert.Equal(7, await h.CountAsync(WindowsApp, Windows10));
        Assert.Equal(8, await h.CountAsync(WindowsApp, Windows10));

        h.Clock.Advance(TimeSpan.FromDays(10)); // the first five are 30 days old now
        Assert.Equal(4, await h.CountAsync(WindowsApp, Windows10));

        h.Clock.Advance(TimeSpan.FromDays(31));
        Assert.Equal(1, await h.CountAsync(WindowsApp, Windows10, renewed));
    }

    [Fact]
    public async Task Windows_office_2010_and_office_2013_plus_are_counted_apart()
    {
        await using var h = new ActivationHarness();
        var machine = Guid.NewGuid();
        Assert.Equal(1, await h.CountAsync(WindowsApp, Windows10, machine));
        Assert.Equal(2, await h.CountAsync(WindowsApp, Windows10));
        Assert.Equal(1, await h.CountAsync(Office2013App, Office2016, machine, 5));
        Assert.Equal(1, await h.CountAsync(Office2010App, Office2010, machine, 5));
        Assert.Equal(2, await h.CountAsync(Office2013App, Office2024, nPolicy: 5));
        Assert.Equal(2, await h.CountAsync(Office2010App, Office2010, nPolicy: 5));
        Assert.Equal(3, await h.CountAsync(WindowsApp, Server2019, nPolicy: 5));
    }

    [Fact]
    public async Task The_optional_floor_raises_the_reported_count_but_not_the_ledger()
    {
        var options = new ActivationPolicyOptions { MinimumReportedCount = { [ProductGroup.Windows] = 25 } };
        await using var h = new ActivationHarness(options);
        Assert.Equal(25, await h.CountAsync(WindowsApp, Windows10));
        Assert.Equal(1, await h.CountAsync(Office2013App, Office2016, nPolicy: 5));
        for (int i = 0; i < 25; i++)
        {
            await h.CountAsync(WindowsApp, Windows10);
        }

        Assert.Equal(27, await h.CountAsync(WindowsApp, Windows10));
        var ledger = await h.Store.GetLedgerAsync(ProductGroup.Windows, h.Clock.GetUtcNow(), TestContext.Current.CancellationToken);
        Assert.Equal(27, ledger.Count);
    }
}
