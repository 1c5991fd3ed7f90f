using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using static KmsFarm.Storage.Postgres.Tests.Attempts;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>The CMID cache semantics, through the PostgreSQL store.</summary>
[Trait("Category", "Integration")]
public sealed class LedgerTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Distinct_Windows_clients_count_up_to_twice_N_Policy_then_stay()
    {
        await using var store = await OpenAsync(await postgres.CreateDatabaseAsync(Ct));
        var counts = new List<int>();
        foreach (var cmid in Cmids(60))
        {
            counts.Add(await store.ApplyOneAsync(cmid, nPolicy: 25));
        }

        Assert.Equal([.. Enumerable.Range(1, 50), .. Enumerable.Repeat(50, 10)], counts);
        var ledger = await store.GetLedgerAsync(ProductGroup.Windows, T0, Ct);
        Assert.Equal(50, ledger.Count);
        Assert.Equal(50, ledger.Capacity);
    }

    [Fact]
    public async Task Renewals_do_not_add()
    {
        await using var store = await OpenAsync(await postgres.CreateDatabaseAsync(Ct));
        var cmids = Cmids(3);
        foreach (var cmid in cmids)
        {
            await store.ApplyOneAsync(cmid);
        }

        var outcomes = await store.ApplyAsync(ProductGroup.Windows, [For(cmids[0]), For(cmids[1]), For(cmids[0])], T0.AddDays(1), Ct);
        Assert.Equal([new LedgerOutcome(3, false, 50), new LedgerOutcome(3, false, 50), new LedgerOutcome(3, false, 50)], outcomes);

        // The renewed CMIDs moved to the back: oldest first is now 2, 1, 0.
        var ledger = await store.GetLedgerAsync(ProductGroup.Windows, T0.AddDays(1), Ct);
        Assert.Equal([cmids[2], cmids[1], cmids[0]], ledger.Entries.Select(e => e.ClientMachineId));
    }

    [Fact]
    public async Task A_batch_is_applied_in_order()
    {
        await using var store = await OpenAsync(await postgres.CreateDatabaseAsync(Ct));
        var c = Cmids(3);
        var outcomes = await store.ApplyAsync(ProductGroup.Windows, [For(c[0]), For(c[1]), For(c[0]), For(c[2])], T0, Ct);
        Assert.Equal([1, 2, 2, 3], outcomes.Select(o => o.CurrentCount));
        Assert.Equal([true, true, false, true], outcomes.Select(o => o.IsNewClient));
    }

    [Fact]
    public async Task Clients_expire_30_days_after_they_were_last_seen()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using var store = await OpenAsync(db);
        var (early, renewed, late) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        Assert.Equal(1, await store.ApplyOneAsync(early, now: T0));
        Assert.Equal(2, await store.ApplyOneAsync(renewed, now: T0));
        Assert.Equal(2, await store.ApplyOneAsync(renewed, now: T0.AddDays(10)));

        // Exactly 30 days after T0 the first is gone; the renewed one has 10 days left.
        Assert.Equal(2, await store.ApplyOneAsync(late, now: T0.AddDays(30)));
        var ledger = await store.GetLedgerAsync(ProductGroup.Windows, T0.AddDays(30), Ct);
        Assert.Equal([renewed, late], ledger.Entries.Select(e => e.ClientMachineId));

        Assert.Equal(1, (await store.GetLedgerAsync(ProductGroup.Windows, T0.AddDays(40), Ct)).Count);

        // Another node reads the same cache: at day 41 only the late client is left, and the early one counts as new.
        await using var other = await OpenAsync(db);
        Assert.Equal(2, await other.ApplyOneAsync(early, now: T0.AddDays(41)));
        Assert.Equal(0L, await ScalarAsync<long>(db, $"SELECT count(*) FROM ledger_entry WHERE cmid = '{renewed}'"));
    }

    [Fact]
    public async Task Product_groups_count_apart()
    {
        await using var store = await OpenAsync(await postgres.CreateDatabaseAsync(Ct));
        var cmid = Guid.NewGuid();
        Assert.Equal(1, await store.ApplyOneAsync(cmid, nPolicy: 25, group: ProductGroup.Windows));
        Assert.Equal(2, await store.ApplyOneAsync(Guid.NewGuid(), nPolicy: 25, group: ProductGroup.Windows));
        Assert.Equal(1, await store.ApplyOneAsync(cmid, nPolicy: 5, group: ProductGroup.Office2013Plus));
        Assert.Equal(1, await store.ApplyOneAsync(Guid.NewGuid(), nPolicy: 5, group: ProductGroup.Office2010));

        Assert.Equal(2, (await store.GetLedgerAsync(ProductGroup.Windows, T0, Ct)).Count);
        var office = await store.GetLedgerAsync(ProductGroup.Office2013Plus, T0, Ct);
        Assert.Equal((1, 10), (office.Count, office.Capacity));
    }

    [Fact]
    public async Task Capacity_follows_the_largest_N_Policy_and_evicts_the_least_recently_seen()
    {
        await using var store = await OpenAsync(await postgres.CreateDatabaseAsync(Ct));
        var c = Cmids(6);
        var outcomes = await store.ApplyAsync(ProductGroup.Office2013Plus, [.. c[..5].Select(x => For(x, nPolicy: 2, group: ProductGroup.Office2013Plus))], T0, Ct);
        Assert.Equal([1, 2, 3, 4, 4], outcomes.Select(o => o.CurrentCount));
        Assert.Equal(5, await store.ApplyOneAsync(c[5], nPolicy: 5, group: ProductGroup.Office2013Plus));

        var ledger = await store.GetLedgerAsync(ProductGroup.Office2013Plus, T0, Ct);
        Assert.Equal(10, ledger.Capacity);
        Assert.Equal(c[1..], ledger.Entries.Select(e => e.ClientMachineId));
    }

    [Fact]
    public async Task History_and_inventory_hold_every_committed_attempt()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await using var store = await OpenAsync(db);
        var c = Cmids(2);
        await store.ApplyAsync(ProductGroup.Windows, [For(c[0], machine: "one"), For(c[1], machine: "two"), For(c[0], machine: "one-again")], T0, Ct);
        var refusal = For(Guid.NewGuid(), machine: "refused").Record with { Result = 0xC004F042, Group = null };
        await store.AppendRefusalAsync(refusal, Ct);

        var history = await store.GetHistoryAsync(10, Ct);
        Assert.Equal(["refused", "one-again", "two", "one"], history.Select(h => h.MachineName));
        Assert.Equal([null, 2, 2, 1], history.Select(h => h.CurrentCount));
        Assert.Equal(refusal, history[0]);
        Assert.Equal(For(c[1], machine: "two").Record with { CurrentCount = 2 }, history[2]);

        Assert.Equal(2L, await ScalarAsync<long>(db, "SELECT count(*) FROM client"));
        Assert.Equal(2L, await ScalarAsync<long>(db, $"SELECT activation_count FROM client WHERE cmid = '{c[0]}'"));
        Assert.Equal("one-again", await ScalarAsync<string>(db, $"SELECT machine_name FROM client WHERE cmid = '{c[0]}'"));
    }

    [Fact]
    public async Task Clients_seen_since_a_time_are_counted_from_the_inventory_beyond_the_cache()
    {
        await using var store = await OpenAsync(await postgres.CreateDatabaseAsync(Ct));
        var cmids = Cmids(60);
        for (int i = 0; i < cmids.Length; i++)
        {
            await store.ApplyOneAsync(cmids[i], now: T0.AddMinutes(i));
        }

        // The cache keeps 50 (2 x N_Policy 25); the inventory knows all 60.
        Assert.Equal(60, await store.CountClientsSeenSinceAsync(ProductGroup.Windows, T0.AddSeconds(-1), Ct));
        Assert.Equal(29, await store.CountClientsSeenSinceAsync(ProductGroup.Windows, T0.AddMinutes(30), Ct));
        Assert.Equal(0, await store.CountClientsSeenSinceAsync(ProductGroup.Office2013Plus, T0.AddSeconds(-1), Ct));

        await store.ApplyOneAsync(cmids[0], now: T0.AddDays(40));
        Assert.Equal(1, await store.CountClientsSeenSinceAsync(ProductGroup.Windows, T0.AddDays(10), Ct));
    }
}
