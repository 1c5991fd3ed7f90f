using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;
using Microsoft.Data.Sqlite;

namespace KmsFarm.Storage.Sqlite.Tests;

public sealed class RestartTests : StoreTestBase
{
    private static readonly FarmIdentity Identity =
        new(26100, 1033, T0, [new CsvlkIdentity("windows", "06401-00206-551-123456-03-1033-26100.0000-0602026", new HardwareId(42))]);

    /// <summary>50 Windows clients at N_Policy 25 (a full cache), client 0 renewed last; 3 Office clients.</summary>
    private static async Task FillAsync(IActivationStore store)
    {
        await store.GetOrCreateIdentityAsync(() => Identity, Ct);
        await store.ApplyAsync(ProductGroup.Windows, Enumerable.Range(0, 50).Select(i => Attempt(Cmid(i), T0)).ToArray(), T0, Ct);
        await ApplyOneAsync(store, Cmid(0), T0.AddHours(1));
        for (int i = 0; i < 3; i++)
        {
            await ApplyOneAsync(store, Cmid(100 + i), T0.AddHours(i), ProductGroup.Office2013Plus, 5);
        }
    }

    private static async Task AssertFilledAsync(IActivationStore store)
    {
        var identity = await store.GetOrCreateIdentityAsync(() => throw new InvalidOperationException("identity was lost"), Ct);
        Assert.Equal(Identity.Csvlks, identity.Csvlks);
        var windows = await store.GetLedgerAsync(ProductGroup.Windows, T0.AddHours(2), Ct);
        Assert.Equal((50, 50), (windows.Count, windows.Capacity));
        Assert.Equal(Enumerable.Range(1, 49).Append(0).Select(Cmid), windows.Entries.Select(e => e.ClientMachineId));
        var office = await store.GetLedgerAsync(ProductGroup.Office2013Plus, T0.AddHours(2), Ct);
        Assert.Equal((3, 10), (office.Count, office.Capacity));
        Assert.Equal(50 + 1 + 3, (await store.GetHistoryAsync(1000, Ct)).Count);
    }

    [Fact]
    public async Task Reopening_keeps_counts_capacity_order_and_identity()
    {
        var store = await OpenAsync();
        await FillAsync(store);
        await store.DisposeAsync();

        var reopened = await OpenAsync();
        await AssertFilledAsync(reopened);

        // The in-memory ledger was rebuilt in the stored order: a renewal does not add...
        Assert.Equal(new LedgerOutcome(50, false, 50), await ApplyOneAsync(reopened, Cmid(5), T0.AddHours(3)));

        // ...and the next new clients evict the oldest: 1 (0 was renewed, 5 just now), then 2.
        Assert.Equal(new LedgerOutcome(50, true, 50), await ApplyOneAsync(reopened, Cmid(200), T0.AddHours(3)));
        Assert.Equal(new LedgerOutcome(50, true, 50), await ApplyOneAsync(reopened, Cmid(201), T0.AddHours(3)));
        var ids = (await reopened.GetLedgerAsync(ProductGroup.Windows, T0.AddHours(3), Ct)).Entries.Select(e => e.ClientMachineId).ToList();
        Assert.DoesNotContain(Cmid(1), ids);
        Assert.DoesNotContain(Cmid(2), ids);
        Assert.Equal([Cmid(3), Cmid(4), Cmid(6)], ids.Take(3));
        Assert.Equal([Cmid(0), Cmid(5), Cmid(200), Cmid(201)], ids.TakeLast(4));

        // Once more across a restart: the renewals and evictions written since are what the file holds.
        await reopened.DisposeAsync();
        var third = await OpenAsync();
        Assert.Equal(ids, (await third.GetLedgerAsync(ProductGroup.Windows, T0.AddHours(3), Ct)).Entries.Select(e => e.ClientMachineId));
        Assert.Equal(new LedgerOutcome(50, true, 50), await ApplyOneAsync(third, Cmid(202), T0.AddHours(4)));
        Assert.DoesNotContain(Cmid(3), (await third.GetLedgerAsync(ProductGroup.Windows, T0.AddHours(4), Ct)).Entries.Select(e => e.ClientMachineId));
    }

    [Fact]
    public async Task Expired_entries_left_in_the_file_expire_after_reopen()
    {
        var store = await OpenAsync();
        await ApplyOneAsync(store, Cmid(1), T0);
        await ApplyOneAsync(store, Cmid(2), T0.AddDays(20));
        await store.DisposeAsync();

        var reopened = await OpenAsync();
        Assert.Equal(new LedgerOutcome(2, true, 50), await ApplyOneAsync(reopened, Cmid(3), T0.AddDays(30)));
    }

    [Fact]
    public async Task Dropping_the_store_without_anything_else_loses_nothing_committed()
    {
        var store = await OpenAsync();
        await FillAsync(store);
        await store.DisposeAsync();

        await AssertFilledAsync(await OpenAsync());
    }

    [Fact]
    public async Task A_crash_copy_of_the_open_files_recovers_everything_committed()
    {
        var store = await OpenAsync();
        await FillAsync(store);

        // What a power cut leaves: the main file and the WAL as they are now, never checkpointed or closed.
        Assert.True(new FileInfo(DatabasePath + "-wal").Length > 0);
        var crashed = Path.Combine(Directory, "crashed.db");
        File.Copy(DatabasePath, crashed);
        File.Copy(DatabasePath + "-wal", crashed + "-wal");

        await AssertFilledAsync(await OpenAsync(crashed));
    }

    [Fact]
    public async Task A_failed_commit_rolls_back_and_memory_does_not_run_ahead_of_disk()
    {
        var store = await OpenAsync();
        for (int i = 0; i < 3; i++)
        {
            await ApplyOneAsync(store, Cmid(i), T0);
        }

        // Make the history insert of one machine fail, after the ledger changed in memory and in the transaction.
        using (var raw = OpenRaw())
        {
            Execute(raw,
                """
                CREATE TRIGGER fail_history BEFORE INSERT ON activation_history
                WHEN NEW.machine_name = 'breaks-the-write' BEGIN SELECT RAISE(ABORT, 'injected failure'); END
                """);
        }

        var batch = new[] { Attempt(Cmid(10), T0.AddHours(1)), Attempt(Cmid(0), T0.AddHours(1)), Attempt(Cmid(11), T0.AddHours(1), machine: "breaks-the-write") };
        var error = await Assert.ThrowsAsync<SqliteException>(() => store.ApplyAsync(ProductGroup.Windows, batch, T0.AddHours(1), Ct));
        Assert.Contains("injected failure", error.Message, StringComparison.Ordinal);

        // Nothing of the batch is on disk, and the in-memory ledger agrees: CMID 10 is still new, the count continues at 4.
        var ledger = await store.GetLedgerAsync(ProductGroup.Windows, T0.AddHours(1), Ct);
        Assert.Equal([Cmid(0), Cmid(1), Cmid(2)], ledger.Entries.Select(e => e.ClientMachineId));
        Assert.Equal(3, (await store.GetHistoryAsync(100, Ct)).Count);
        Assert.Equal(new LedgerOutcome(4, true, 50), await ApplyOneAsync(store, Cmid(10), T0.AddHours(2)));
        Assert.Equal(new LedgerOutcome(5, true, 50), await ApplyOneAsync(store, Cmid(11), T0.AddHours(2)));
        Assert.Equal(new LedgerOutcome(5, false, 50), await ApplyOneAsync(store, Cmid(0), T0.AddHours(2)));
        Assert.True(await store.IsReadyAsync(Ct));
    }
}
