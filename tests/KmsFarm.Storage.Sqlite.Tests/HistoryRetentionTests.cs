namespace KmsFarm.Storage.Sqlite.Tests;

/// <summary>The embedded store's side of history retention: old rows go in batches, oldest first; a purge is claimed
/// once per interval.</summary>
public sealed class HistoryRetentionTests : StoreTestBase
{
    [Fact]
    public async Task Rows_before_the_cutoff_are_deleted_in_batches_oldest_first()
    {
        var store = await OpenAsync();
        for (int i = 0; i < 5; i++)
        {
            await store.AppendRefusalAsync(Record(Cmid(i), null, 25, T0.AddDays(-100 + i), result: 0xC004F042), Ct);
        }

        await store.AppendRefusalAsync(Record(Cmid(9), null, 25, T0, result: 0xC004F042), Ct);

        var deleted = new List<int>();
        for (int i = 0; i < 4; i++)
        {
            deleted.Add(await store.DeleteHistoryBeforeAsync(T0.AddDays(-90), 2, Ct));
        }

        Assert.Equal([2, 2, 1, 0], deleted);
        Assert.Equal([Cmid(9)], (await store.GetHistoryAsync(10, Ct)).Select(r => r.ClientMachineId));
    }

    [Fact]
    public async Task A_purge_is_claimed_once_per_interval()
    {
        var store = await OpenAsync();
        var day = TimeSpan.FromDays(1);
        Assert.True(await store.TryClaimHistoryPurgeAsync(T0, day, Ct));
        Assert.False(await store.TryClaimHistoryPurgeAsync(T0, day, Ct));
        Assert.False(await store.TryClaimHistoryPurgeAsync(T0.AddHours(23), day, Ct));
        Assert.True(await store.TryClaimHistoryPurgeAsync(T0.AddDays(1), day, Ct));
        Assert.False(await store.TryClaimHistoryPurgeAsync(T0.AddDays(1).AddSeconds(1), day, Ct));
    }
}
