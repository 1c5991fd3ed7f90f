using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;

namespace KmsFarm.Storage.Sqlite.Tests;

public sealed class ConcurrencyTests : StoreTestBase
{
    [Fact]
    public async Task Concurrent_batches_on_one_group_are_serialized()
    {
        var store = await OpenAsync();
        const int Tasks = 16, PerTask = 3;
        var results = await Task.WhenAll(Enumerable.Range(0, Tasks).Select(t => Task.Run(async () =>
        {
            var attempts = Enumerable.Range(0, PerTask).Select(i => Attempt(Cmid(t * PerTask + i), T0, requiredClientCount: 500)).ToArray();
            return await store.ApplyAsync(ProductGroup.Windows, attempts, T0, Ct);
        }, Ct)));

        // Every distinct client got its own count: 1..48, none twice, and each batch's counts are consecutive.
        var counts = results.SelectMany(r => r.Select(o => o.CurrentCount)).Order().ToArray();
        Assert.Equal(Enumerable.Range(1, Tasks * PerTask), counts);
        Assert.All(results, r => Assert.Equal(Enumerable.Range(r[0].CurrentCount, PerTask), r.Select(o => o.CurrentCount)));
        Assert.Equal(Tasks * PerTask, (await store.GetLedgerAsync(ProductGroup.Windows, T0, Ct)).Count);
        Assert.Equal(Tasks * PerTask, (await store.GetHistoryAsync(1000, Ct)).Count);
    }

    [Fact]
    public async Task Groups_refusals_reads_and_identity_run_together_without_losing_writes()
    {
        var store = await OpenAsync();
        var groups = Enum.GetValues<ProductGroup>();
        var work = new List<Task>();
        for (int i = 0; i < 60; i++)
        {
            int n = i;
            var group = groups[n % groups.Length];
            work.Add(Task.Run(async () => await ApplyOneAsync(store, Cmid(n), T0.AddSeconds(n), group, 100), Ct));
            if (n % 10 == 0)
            {
                work.Add(Task.Run(async () => await store.AppendRefusalAsync(Record(Cmid(1000 + n), null, 25, T0, result: 0xC004F042), Ct), Ct));
                work.Add(Task.Run(async () => await store.GetLedgerAsync(group, T0, Ct), Ct));
                work.Add(Task.Run(async () => Assert.True(await store.IsReadyAsync(Ct)), Ct));
            }
        }

        await Task.WhenAll(work);
        foreach (var group in groups)
        {
            Assert.Equal(20, (await store.GetLedgerAsync(group, T0.AddMinutes(5), Ct)).Count);
        }

        var history = await store.GetHistoryAsync(1000, Ct);
        Assert.Equal(66, history.Count);
        Assert.Equal(6, history.Count(r => r.Result != 0));
        foreach (var group in groups)
        {
            // Within a group, the counts in commit order run 1..20.
            Assert.Equal(Enumerable.Range(1, 20), history.Where(r => r.Result == 0 && r.Group == group).Reverse().Select(r => r.CurrentCount!.Value));
        }
    }
}
