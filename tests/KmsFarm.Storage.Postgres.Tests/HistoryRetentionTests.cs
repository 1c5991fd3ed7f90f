using KmsFarm.TestKit;
using static KmsFarm.Storage.Postgres.Tests.Attempts;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>The farm store's side of history retention: old rows go in batches, oldest first; however many nodes try at
/// once, exactly one claims a purge per interval.</summary>
public sealed class HistoryRetentionTests(PostgresFixture postgres)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Rows_before_the_cutoff_are_deleted_in_batches_oldest_first()
    {
        await using var store = await OpenAsync(await postgres.CreateDatabaseAsync(Ct));
        var old = Cmids(5);
        for (int i = 0; i < old.Length; i++)
        {
            await store.AppendRefusalAsync(For(old[i], time: T0.AddDays(-100 + i)).Record with { Result = 0xC004F042 }, Ct);
        }

        var recent = Guid.NewGuid();
        await store.AppendRefusalAsync(For(recent, time: T0).Record with { Result = 0xC004F042 }, Ct);

        var cutoff = T0.AddDays(-90);
        var deleted = new List<int>();
        for (int i = 0; i < 4; i++)
        {
            deleted.Add(await store.DeleteHistoryBeforeAsync(cutoff, 2, Ct));
        }

        Assert.Equal([2, 2, 1, 0], deleted);
        Assert.Equal([recent], (await store.GetHistoryAsync(10, Ct)).Select(r => r.ClientMachineId));
    }

    [Fact]
    public async Task Of_many_nodes_claiming_at_once_exactly_one_gets_each_interval()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var stores = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => OpenAsync(db)));
        try
        {
            var day = TimeSpan.FromDays(1);
            foreach (var now in new[] { T0, T0.AddHours(12), T0.AddDays(1), T0.AddDays(1).AddMinutes(1), T0.AddDays(3) })
            {
                var claims = await Task.WhenAll(stores.Select(s => s.TryClaimHistoryPurgeAsync(now, day, Ct).AsTask()));
                Assert.Equal(now == T0 || now == T0.AddDays(1) || now == T0.AddDays(3) ? 1 : 0, claims.Count(c => c));
            }
        }
        finally
        {
            foreach (var store in stores)
            {
                await store.DisposeAsync();
            }
        }
    }
}
