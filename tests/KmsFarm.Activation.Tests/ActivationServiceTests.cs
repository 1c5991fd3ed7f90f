using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Identity;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;
using Microsoft.Extensions.Logging.Abstractions;
using static KmsFarm.Activation.Tests.ActivationHarness;

namespace KmsFarm.Activation.Tests;

public class ActivationServiceTests
{
    [Fact]
    public async Task Response_carries_the_resolved_csvlk_identity_and_the_policy_intervals()
    {
        var options = new ActivationPolicyOptions { ActivationIntervalMinutes = 60, RenewalIntervalMinutes = 1440 };
        await using var h = new ActivationHarness(options);

        var office2010 = await h.ActivateAsync(h.Request(Office2010App, Office2010, nPolicy: 5));
        Assert.Equal(KmsHResults.Success, office2010.HResult);
        var expected = h.IdentityOf("Office2010");
        Assert.Equal(expected.Epid, office2010.Response.Epid);
        Assert.Equal(expected.HwId, office2010.Response.HwId);
        Assert.Equal(96, EpidParser.Parse(office2010.Response.Epid).GroupId);
        Assert.Equal(60u, office2010.Response.ActivationInterval);
        Assert.Equal(1440u, office2010.Response.RenewalInterval);

        var windows = await h.ActivateAsync(h.Request(WindowsApp, Windows10));
        Assert.Equal(h.IdentityOf("WindowsServer2025").Epid, windows.Response.Epid);
        Assert.Equal(4919, EpidParser.Parse(windows.Response.Epid).GroupId);
        var office2016 = await h.ActivateAsync(h.Request(Office2013App, Office2016, nPolicy: 5));
        Assert.Equal(h.IdentityOf("Office2016").Epid, office2016.Response.Epid);
    }

    [Theory]
    [InlineData("e1c51358-fe3e-4203-a4a2-3b6b20c9734e")] // Windows 10 (Retail)
    [InlineData("5f94a0bb-d5a0-4081-a685-5819418b2fe0")] // Windows Preview
    [InlineData("6d5f5270-31ac-433e-b90a-39892923c657")] // Windows Server Preview
    public async Task Retail_and_preview_are_refused_and_recorded(string kmsId)
    {
        await using var h = new ActivationHarness();
        var decision = await h.ActivateAsync(h.Request(WindowsApp, Guid.Parse(kmsId)));
        Assert.Equal(KmsHResults.ProductNotSupported, decision.HResult);
        var history = await h.Store.GetHistoryAsync(10, TestContext.Current.CancellationToken);
        var record = Assert.Single(history);
        Assert.Equal(KmsHResults.ProductNotSupported, record.Result);
        Assert.Null(record.CurrentCount);
        Assert.Equal(ProductGroup.Windows, record.Group);
        Assert.Equal(0, h.Store.CommitCalls);
    }

    [Fact]
    public async Task Retail_is_activated_when_the_gate_is_off()
    {
        await using var h = new ActivationHarness(new ActivationPolicyOptions { RefuseRetailAndPreview = false });
        var decision = await h.ActivateAsync(h.Request(WindowsApp, Windows10Retail));
        Assert.True(decision.IsSuccess);
        Assert.Equal(1u, decision.Response.CurrentCount);
    }

    [Fact]
    public async Task Unknown_kms_ids_activate_with_the_application_fallback_csvlk()
    {
        await using var h = new ActivationHarness();
        var windows = await h.ActivateAsync(h.Request(WindowsApp, Guid.NewGuid()));
        Assert.True(windows.IsSuccess);
        Assert.Equal(h.IdentityOf("WindowsServer2025").Epid, windows.Response.Epid);
        var office = await h.ActivateAsync(h.Request(Office2013App, Guid.NewGuid(), nPolicy: 5));
        Assert.True(office.IsSuccess);
        Assert.Equal(h.IdentityOf("Office2024").Epid, office.Response.Epid);
        Assert.Equal(1u, office.Response.CurrentCount);
    }

    [Fact]
    public async Task Unknown_kms_ids_are_refused_when_configured()
    {
        await using var h = new ActivationHarness(new ActivationPolicyOptions { RefuseUnknownProducts = true });
        var decision = await h.ActivateAsync(h.Request(WindowsApp, Guid.NewGuid()));
        Assert.Equal(KmsHResults.ProductNotSupported, decision.HResult);
    }

    [Fact]
    public async Task Unknown_application_is_refused_and_recorded_without_a_group()
    {
        await using var h = new ActivationHarness();
        var decision = await h.ActivateAsync(h.Request(Guid.NewGuid(), Windows10));
        Assert.Equal(KmsHResults.ProductNotSupported, decision.HResult);
        var record = Assert.Single(await h.Store.GetHistoryAsync(10, TestContext.Current.CancellationToken));
        Assert.Null(record.Group);
    }

    [Fact]
    public async Task Application_must_match_a_known_product()
    {
        await using var h = new ActivationHarness();
        Assert.Equal(KmsHResults.ProductNotSupported, (await h.ActivateAsync(h.Request(WindowsApp, Office2016, nPolicy: 5))).HResult);
        Assert.Equal(KmsHResults.ProductNotSupported, (await h.ActivateAsync(h.Request(Office2013App, Office2010, nPolicy: 5))).HResult);
        Assert.Equal(KmsHResults.ProductNotSupported, (await h.ActivateAsync(h.Request(Office2010App, Windows10))).HResult);
    }

    [Fact]
    public async Task Served_csvlks_gate_products_like_an_older_host()
    {
        var options = new ActivationPolicyOptions { ServedCsvlks = ["WindowsServer2012R2", "Office2016"] };
        await using var h = new ActivationHarness(options);
        Assert.Equal(KmsHResults.ProductNotSupported, (await h.ActivateAsync(h.Request(WindowsApp, Windows10))).HResult);
        Assert.Equal(KmsHResults.ProductNotSupported, (await h.ActivateAsync(h.Request(Office2010App, Office2010, nPolicy: 5))).HResult);
        var server = await h.ActivateAsync(h.Request(WindowsApp, Server2012R2, nPolicy: 5));
        Assert.True(server.IsSuccess);
        Assert.Equal(h.IdentityOf("WindowsServer2012R2").Epid, server.Response.Epid);
        var office = await h.ActivateAsync(h.Request(Office2013App, Office2016, nPolicy: 5));
        Assert.Equal(h.IdentityOf("Office2016").Epid, office.Response.Epid);
        // Unknown Windows ids fall back to a served Windows CSVLK.
        var unknown = await h.ActivateAsync(h.Request(WindowsApp, Guid.NewGuid()));
        Assert.Equal(h.IdentityOf("WindowsServer2012R2").Epid, unknown.Response.Epid);
    }

    [Theory]
    [InlineData(false, 5, true)]
    [InlineData(true, 5, false)]
    [InlineData(true, -5, false)]
    [InlineData(true, 3, true)]
    [InlineData(true, -3.9, true)]
    public async Task Clock_skew_is_refused_only_when_strict(bool strict, double offsetHours, bool activated)
    {
        await using var h = new ActivationHarness(new ActivationPolicyOptions { StrictTimeCheck = strict });
        var request = h.Request(WindowsApp, Windows10, clientTime: h.Clock.GetUtcNow().AddHours(offsetHours));
        var decision = await h.ActivateAsync(request);
        Assert.Equal(activated ? KmsHResults.Success : KmsHResults.TimeSkew, decision.HResult);
    }

    [Fact]
    public async Task N_policy_above_1000_is_refused_as_invalid_data()
    {
        await using var h = new ActivationHarness();
        Assert.Equal(KmsHResults.InvalidData, (await h.ActivateAsync(h.Request(WindowsApp, Windows10, nPolicy: 1001))).HResult);
    }

    [Fact]
    public async Task Every_decision_is_recorded_with_its_count_and_epid()
    {
        await using var h = new ActivationHarness();
        await h.CountAsync(WindowsApp, Windows10);
        await h.CountAsync(WindowsApp, Windows10);
        await h.ActivateAsync(h.Request(WindowsApp, Windows10Retail));
        await h.CountAsync(Office2013App, Office2016, nPolicy: 5);
        var history = await h.Store.GetHistoryAsync(100, TestContext.Current.CancellationToken);
        Assert.Equal(4, history.Count);
        Assert.Equal([1, null, 2, 1], history.Select(r => r.CurrentCount));
        Assert.All(history, r => Assert.Equal("node-test", r.Node));
        Assert.All(history, r => Assert.Equal("192.0.2.10", r.ClientAddress));
        Assert.All(history, r => Assert.Equal("lab-pc", r.MachineName));
        Assert.All(history.Where(r => r.Result == 0), r => Assert.NotNull(r.Epid));
    }

    [Fact]
    public async Task Concurrent_requests_for_one_group_are_batched_and_counted_without_duplicates()
    {
        await using var h = new ActivationHarness();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Store.BeforeCommit = async (_, _) => await gate.Task;

        const int clients = 200;
        var tasks = Enumerable.Range(0, clients).Select(_ => h.ActivateAsync(h.Request(WindowsApp, Windows10)).AsTask()).ToArray();
        gate.SetResult();
        var decisions = await Task.WhenAll(tasks);

        Assert.All(decisions, d => Assert.True(d.IsSuccess));
        var counts = decisions.Select(d => (int)d.Response.CurrentCount).Order().ToArray();
        Assert.Equal(Enumerable.Range(1, 50).Concat(Enumerable.Repeat(50, clients - 50)), counts);
        Assert.Equal(clients, h.Store.CommittedAttempts);
        Assert.True(h.Store.CommitCalls < clients / 4, $"{h.Store.CommitCalls} store calls for {clients} requests");
    }

    [Fact]
    public async Task Concurrent_requests_from_many_threads_get_distinct_counts()
    {
        await using var h = new ActivationHarness();
        var tasks = Enumerable.Range(0, 40)
            .Select(i => Task.Run(async () => (await h.ActivateAsync(h.Request(i % 2 == 0 ? WindowsApp : Office2013App,
                i % 2 == 0 ? Windows10 : Office2016, nPolicy: i % 2 == 0 ? 25 : 5))).Response.CurrentCount))
            .ToArray();
        var counts = await Task.WhenAll(tasks);
        var windows = counts.Where((_, i) => i % 2 == 0).Select(c => (int)c).Order();
        var office = counts.Where((_, i) => i % 2 == 1).Select(c => (int)c).Order();
        Assert.Equal(Enumerable.Range(1, 20), windows);
        Assert.Equal(Enumerable.Range(1, 10).Concat(Enumerable.Repeat(10, 10)), office);
    }

    [Fact]
    public async Task A_failing_store_surfaces_to_every_caller_of_the_batch_and_the_service_recovers()
    {
        await using var h = new ActivationHarness();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Store.BeforeCommit = async (_, _) =>
        {
            await gate.Task;
            throw new InvalidOperationException("database is down");
        };

        var tasks = Enumerable.Range(0, 20).Select(_ => h.ActivateAsync(h.Request(WindowsApp, Windows10)).AsTask()).ToArray();
        gate.SetResult();
        foreach (var task in tasks)
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => task);
            Assert.Equal("database is down", e.Message);
        }

        h.Store.BeforeCommit = null;
        Assert.Equal(1, await h.CountAsync(WindowsApp, Windows10));
    }

    [Fact]
    public async Task Stopping_commits_queued_activations_then_refuses_new_ones()
    {
        var h = new ActivationHarness();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Store.BeforeCommit = async (_, _) => await gate.Task;
        var tasks = Enumerable.Range(0, 10).Select(_ => h.ActivateAsync(h.Request(WindowsApp, Windows10)).AsTask()).ToArray();
        var stopping = h.Service.StopAsync(TestContext.Current.CancellationToken);
        gate.SetResult();
        await stopping;
        Assert.All(await Task.WhenAll(tasks), d => Assert.True(d.IsSuccess));
        await Assert.ThrowsAsync<ObjectDisposedException>(async () => await h.ActivateAsync(h.Request(WindowsApp, Windows10)));
        await h.DisposeAsync();
    }

    [Fact]
    public void Invalid_options_stop_construction_with_the_setting_named()
    {
        var options = new ActivationPolicyOptions { RenewalIntervalMinutes = 5 };
        var catalog = ProductCatalog.Default;
        var identity = new FarmIdentityFactory(catalog, new ManualTimeProvider()).Create();
        var store = new InMemoryActivationStore();
        using var ledgers = new LocalProductGroupLedgers(store, new ManualTimeProvider(), NullLogger.Instance);
        var e = Assert.Throws<ArgumentException>(() => new ActivationService(catalog, store, ledgers, identity, options,
            new ManualTimeProvider(), "n", NullLogger<ActivationService>.Instance));
        Assert.Contains("Activation:RenewalIntervalMinutes must be between 15 and 43200", e.Message, StringComparison.Ordinal);
    }
}
