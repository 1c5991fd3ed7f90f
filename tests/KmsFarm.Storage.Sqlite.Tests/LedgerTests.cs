using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;

namespace KmsFarm.Storage.Sqlite.Tests;

public sealed class LedgerTests : StoreTestBase
{
    [Fact]
    public async Task Distinct_cmids_count_1_to_50_then_stay_at_50_for_windows_n25()
    {
        var store = await OpenAsync();
        var counts = new List<int>();
        for (int i = 0; i < 60; i++)
        {
            var outcome = await ApplyOneAsync(store, Cmid(i), T0.AddMinutes(i));
            Assert.True(outcome.IsNewClient);
            counts.Add(outcome.CurrentCount);
        }

        Assert.Equal(Enumerable.Range(1, 50).Concat(Enumerable.Repeat(50, 10)), counts);
        var ledger = await store.GetLedgerAsync(ProductGroup.Windows, T0.AddHours(2), Ct);
        Assert.Equal(50, ledger.Capacity);
        Assert.Equal(50, ledger.Count);
        Assert.Equal(Enumerable.Range(10, 50).Select(Cmid), ledger.Entries.Select(e => e.ClientMachineId)); // oldest 10 evicted
    }

    [Fact]
    public async Task One_batch_gives_the_same_counts_as_single_requests()
    {
        var store = await OpenAsync();
        var attempts = Enumerable.Range(0, 60).Select(i => Attempt(Cmid(i), T0)).ToArray();
        var outcomes = await store.ApplyAsync(ProductGroup.Windows, attempts, T0, Ct);
        Assert.Equal(Enumerable.Range(1, 50).Concat(Enumerable.Repeat(50, 10)), outcomes.Select(o => o.CurrentCount));
        Assert.All(outcomes, o => Assert.True(o.IsNewClient));

        var ledger = await store.GetLedgerAsync(ProductGroup.Windows, T0, Ct);
        Assert.Equal(Enumerable.Range(10, 50).Select(Cmid), ledger.Entries.Select(e => e.ClientMachineId)); // batch order kept
    }

    [Fact]
    public async Task Renewals_do_not_add_and_move_the_client_to_the_back()
    {
        var store = await OpenAsync();
        for (int i = 0; i < 3; i++)
        {
            await ApplyOneAsync(store, Cmid(i), T0);
        }

        var renewal = await ApplyOneAsync(store, Cmid(0), T0.AddDays(7));
        Assert.Equal(new LedgerOutcome(3, IsNewClient: false, 50), renewal);

        // Renewals inside one batch, the same CMID twice: it counts once and sits where its last touch put it.
        var outcomes = await store.ApplyAsync(
            ProductGroup.Windows, [Attempt(Cmid(1), T0.AddDays(8)), Attempt(Cmid(2), T0.AddDays(8)), Attempt(Cmid(1), T0.AddDays(8))],
            T0.AddDays(8), Ct);
        Assert.Equal([new(3, false, 50), new(3, false, 50), new(3, false, 50)], outcomes);

        var ledger = await store.GetLedgerAsync(ProductGroup.Windows, T0.AddDays(8), Ct);
        Assert.Equal([Cmid(0), Cmid(2), Cmid(1)], ledger.Entries.Select(e => e.ClientMachineId));
        Assert.Equal([T0.AddDays(7), T0.AddDays(8), T0.AddDays(8)], ledger.Entries.Select(e => e.LastSeen));
    }

    [Fact]
    public async Task Entries_expire_30_days_after_they_were_last_seen()
    {
        var store = await OpenAsync();
        await ApplyOneAsync(store, Cmid(1), T0);
        await ApplyOneAsync(store, Cmid(2), T0.AddDays(10));

        var justBefore = await store.GetLedgerAsync(ProductGroup.Windows, T0.AddDays(30).AddTicks(-1), Ct);
        Assert.Equal(2, justBefore.Count);
        var atExpiry = await store.GetLedgerAsync(ProductGroup.Windows, T0.AddDays(30), Ct);
        Assert.Equal([Cmid(2)], atExpiry.Entries.Select(e => e.ClientMachineId));

        // Reading was read-only: an earlier 'now' still sees both.
        Assert.Equal(2, (await store.GetLedgerAsync(ProductGroup.Windows, T0.AddDays(20), Ct)).Count);

        // A request after expiry: the expired client is gone, and one returning after 30 days counts as new.
        Assert.Equal(new LedgerOutcome(2, IsNewClient: true, 50), await ApplyOneAsync(store, Cmid(3), T0.AddDays(31)));
        Assert.Equal(new LedgerOutcome(3, IsNewClient: true, 50), await ApplyOneAsync(store, Cmid(1), T0.AddDays(31)));
        Assert.Equal(new LedgerOutcome(1, IsNewClient: true, 50), await ApplyOneAsync(store, Cmid(4), T0.AddDays(62)));
    }

    [Fact]
    public async Task Product_groups_are_counted_apart()
    {
        var store = await OpenAsync();
        for (int i = 0; i < 5; i++)
        {
            await ApplyOneAsync(store, Cmid(i), T0, ProductGroup.Windows, 25);
        }

        // The same CMIDs in another group start from 1; capacity follows that group's N_Policy.
        Assert.Equal(new LedgerOutcome(1, true, 10), await ApplyOneAsync(store, Cmid(0), T0, ProductGroup.Office2013Plus, 5));
        Assert.Equal(new LedgerOutcome(2, true, 10), await ApplyOneAsync(store, Cmid(1), T0, ProductGroup.Office2013Plus, 5));
        Assert.Equal(new LedgerOutcome(1, true, 10), await ApplyOneAsync(store, Cmid(9), T0, ProductGroup.Office2010, 5));

        var windows = await store.GetLedgerAsync(ProductGroup.Windows, T0, Ct);
        var office = await store.GetLedgerAsync(ProductGroup.Office2013Plus, T0, Ct);
        var office2010 = await store.GetLedgerAsync(ProductGroup.Office2010, T0, Ct);
        Assert.Equal((5, 50), (windows.Count, windows.Capacity));
        Assert.Equal((2, 10), (office.Count, office.Capacity));
        Assert.Equal((1, 10), (office2010.Count, office2010.Capacity));
        Assert.Equal(ProductGroup.Office2013Plus, office.Group);
    }

    [Fact]
    public async Task Capacity_grows_with_a_larger_n_policy_and_never_shrinks()
    {
        var store = await OpenAsync();
        await ApplyOneAsync(store, Cmid(1), T0, requiredClientCount: 5);
        Assert.Equal(10, (await store.GetLedgerAsync(ProductGroup.Windows, T0, Ct)).Capacity);
        await ApplyOneAsync(store, Cmid(2), T0, requiredClientCount: 25);
        await ApplyOneAsync(store, Cmid(3), T0, requiredClientCount: 5);
        Assert.Equal(50, (await store.GetLedgerAsync(ProductGroup.Windows, T0, Ct)).Capacity);
    }

    [Fact]
    public async Task An_empty_group_reads_as_empty()
    {
        var store = await OpenAsync();
        var ledger = await store.GetLedgerAsync(ProductGroup.Office2010, T0, Ct);
        Assert.Equal(new LedgerSnapshot(ProductGroup.Office2010, 0, ledger.Entries), ledger);
        Assert.Empty(ledger.Entries);
        Assert.Empty(await store.ApplyAsync(ProductGroup.Office2010, [], T0, Ct));
    }

    [Fact]
    public async Task Bad_arguments_are_refused_before_anything_changes()
    {
        var store = await OpenAsync();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => store.ApplyAsync((ProductGroup)7, [Attempt(Cmid(1), T0)], T0, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => store.ApplyAsync(ProductGroup.Windows, [Attempt(Cmid(1), T0), Attempt(Cmid(2), T0) with { RequiredClientCount = -1 }], T0, Ct));
        Assert.Equal(0, (await store.GetLedgerAsync(ProductGroup.Windows, T0, Ct)).Count);
        Assert.Empty(await store.GetHistoryAsync(10, Ct));
    }

    [Fact]
    public async Task A_second_writer_of_a_group_is_fenced_and_writes_nothing()
    {
        var store = await OpenAsync();
        var first = new ProductGroupWriter(ProductGroup.Windows, store, new ManualTimeProvider(T0), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        var second = new ProductGroupWriter(ProductGroup.Windows, store, new ManualTimeProvider(T0), Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        await first.LoadAsync(Ct);
        await second.LoadAsync(Ct);
        Assert.Equal(new LedgerOutcome(1, true, 50), (await first.ApplyAsync([Attempt(Cmid(1), T0)], Ct))[0]);

        // The second writer loaded version 0; the group is at 1 now: its commit is refused whole.
        await Assert.ThrowsAsync<LedgerVersionConflictException>(async () => await second.ApplyAsync([Attempt(Cmid(2), T0), Attempt(Cmid(3), T0)], Ct));
        Assert.False(second.IsLoaded);
        Assert.Equal([Cmid(1)], (await store.GetLedgerAsync(ProductGroup.Windows, T0, Ct)).Entries.Select(e => e.ClientMachineId));
        Assert.Single(await store.GetHistoryAsync(10, Ct));

        // Its next batch reloads first and continues the count the first writer left; then the first writer is the stale one.
        Assert.Equal([2, 3], (await second.ApplyAsync([Attempt(Cmid(2), T0), Attempt(Cmid(3), T0)], Ct)).Select(o => o.CurrentCount));
        Assert.Equal(2, second.Version);
        await Assert.ThrowsAsync<LedgerVersionConflictException>(async () => await first.ApplyAsync([Attempt(Cmid(4), T0)], Ct));
        Assert.Equal([Cmid(1), Cmid(2), Cmid(3)], (await store.GetLedgerAsync(ProductGroup.Windows, T0, Ct)).Entries.Select(e => e.ClientMachineId));
    }

    [Fact]
    public async Task Clients_seen_since_a_time_are_counted_from_the_inventory_beyond_the_cache()
    {
        var store = await OpenAsync();
        for (int i = 0; i < 60; i++)
        {
            await ApplyOneAsync(store, Cmid(i), T0.AddMinutes(i));
        }

        // The cache keeps 50 (2 x N_Policy 25); the inventory knows all 60.
        Assert.Equal(60, await store.CountClientsSeenSinceAsync(ProductGroup.Windows, T0.AddSeconds(-1), Ct));
        Assert.Equal(29, await store.CountClientsSeenSinceAsync(ProductGroup.Windows, T0.AddMinutes(30), Ct));
        Assert.Equal(0, await store.CountClientsSeenSinceAsync(ProductGroup.Office2013Plus, T0.AddSeconds(-1), Ct));

        await ApplyOneAsync(store, Cmid(0), T0.AddDays(40));
        Assert.Equal(1, await store.CountClientsSeenSinceAsync(ProductGroup.Windows, T0.AddDays(10), Ct));
    }
}
