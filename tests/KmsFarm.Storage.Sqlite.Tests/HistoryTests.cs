using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;

namespace KmsFarm.Storage.Sqlite.Tests;

public sealed class HistoryTests : StoreTestBase
{
    [Fact]
    public async Task One_row_per_attempt_and_refusal_newest_first_with_every_field()
    {
        var store = await OpenAsync();
        var first = Attempt(Cmid(1), T0, machine: "alpha");
        var second = Attempt(Cmid(2), T0.AddTicks(1), machine: "beta");
        await store.ApplyAsync(ProductGroup.Windows, [first, second], T0.AddSeconds(1), Ct);

        var refusal = Record(Cmid(3), null, 25, T0.AddMinutes(1), result: 0xC004F042) with
        {
            ApplicationId = Guid.Parse("11111111-2222-3333-4444-555555555555"),
            IsClientVm = false,
            LicenseStatus = uint.MaxValue,
            MachineName = "ünïcødé-機械",
            ClientAddress = "[::1]:1688",
            ProtocolVersion = 4,
        };
        await store.AppendRefusalAsync(refusal, Ct);
        var office = Attempt(Cmid(1), T0.AddMinutes(2), ProductGroup.Office2010, 5) with { Record = Record(Cmid(1), null, 5, T0.AddMinutes(2)) };
        await store.ApplyAsync(ProductGroup.Office2010, [office], T0.AddMinutes(2), Ct);

        var history = await store.GetHistoryAsync(10, Ct);
        Assert.Equal(4, history.Count);
        Assert.Equal(office.Record with { Group = ProductGroup.Office2010, CurrentCount = 1, Result = 0 }, history[0]);
        Assert.Equal(refusal, history[1]);
        Assert.Null(history[1].CurrentCount);
        Assert.Null(history[1].Group);
        Assert.Equal(second.Record with { CurrentCount = 2 }, history[2]);
        Assert.Equal(first.Record with { CurrentCount = 1 }, history[3]);

        Assert.Equal([history[0], history[1]], await store.GetHistoryAsync(2, Ct));
        Assert.Empty(await store.GetHistoryAsync(0, Ct));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => store.GetHistoryAsync(-1, Ct).AsTask());
    }

    [Fact]
    public async Task The_client_inventory_follows_counted_activations()
    {
        var store = await OpenAsync();
        await store.ApplyAsync(ProductGroup.Windows, [Attempt(Cmid(1), T0, machine: "old-name")], T0, Ct);
        var renewal = Attempt(Cmid(1), T0.AddDays(7), machine: "new-name") with
        {
            Record = Record(Cmid(1), ProductGroup.Windows, 25, T0.AddDays(7), machine: "new-name") with
            {
                ClientAddress = "127.0.0.2:50001",
                LicenseStatus = 1,
            },
        };
        await store.ApplyAsync(ProductGroup.Windows, [renewal], T0.AddDays(7), Ct);
        await store.ApplyAsync(ProductGroup.Office2013Plus, [Attempt(Cmid(1), T0.AddDays(1), ProductGroup.Office2013Plus)], T0.AddDays(1), Ct);
        await store.AppendRefusalAsync(Record(Cmid(2), ProductGroup.Windows, 25, T0, result: 0xC004F042), Ct);

        var clients = await store.GetClientsAsync(null, 100, Ct);
        Assert.Equal(2, clients.Count); // the refused machine is only in the history
        var windows = Assert.Single(await store.GetClientsAsync(ProductGroup.Windows, 100, Ct));
        Assert.Equal(
            new ClientInventoryEntry(ProductGroup.Windows, Cmid(1), "new-name", renewal.Record.SkuId, renewal.Record.KmsCountedId, 1, true,
                T0, T0.AddDays(7), "127.0.0.2:50001", 2),
            windows);
        var office = Assert.Single(await store.GetClientsAsync(ProductGroup.Office2013Plus, 100, Ct));
        Assert.Equal((1L, T0.AddDays(1)), (office.ActivationCount, office.FirstSeen));
        Assert.Equal(windows, clients[0]); // most recently seen first
    }
}
