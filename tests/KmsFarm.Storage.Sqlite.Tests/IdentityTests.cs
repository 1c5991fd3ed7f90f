using KmsFarm.Activation;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Storage.Sqlite.Tests;

public sealed class IdentityTests : StoreTestBase
{
    private static FarmIdentity NewIdentity() => new(
        26100,
        1033,
        new DateTimeOffset(2026, 2, 3, 4, 5, 6, 789, TimeSpan.FromHours(2)).AddTicks(1234),
        [
            new CsvlkIdentity("windows-srv-2025", "06401-00206-551-123456-03-1033-26100.0000-0332026", HardwareId.Parse("3A1C049600B60076")),
            new CsvlkIdentity("office-2010", "55041-00096-199-987654-03-1033-26100.0000-0332026", new HardwareId(ulong.MaxValue)),
        ]);

    private static void AssertSame(FarmIdentity expected, FarmIdentity actual)
    {
        Assert.Equal(expected.HostBuild, actual.HostBuild);
        Assert.Equal(expected.Lcid, actual.Lcid);
        Assert.Equal(expected.Created, actual.Created); // the same instant (stored as UTC ticks)
        Assert.Equal(expected.Csvlks, actual.Csvlks);
    }

    [Fact]
    public async Task Created_once_then_returned_unchanged_even_after_reopen()
    {
        var original = NewIdentity();
        int calls = 0;
        var store = await OpenAsync();
        var first = await store.GetOrCreateIdentityAsync(() => { calls++; return original; }, Ct);
        AssertSame(original, first);
        Assert.Equal(TimeSpan.Zero, first.Created.Offset);

        var second = await store.GetOrCreateIdentityAsync(() => throw new InvalidOperationException("must not be called"), Ct);
        AssertSame(first, second);
        Assert.Equal(1, calls);
        await store.DisposeAsync();

        await using var reopened = await OpenAsync();
        var afterRestart = await reopened.GetOrCreateIdentityAsync(
            () => new FarmIdentity(9200, 1031, T0, [new CsvlkIdentity("other", "x", default)]), Ct);
        AssertSame(original, afterRestart);
        Assert.Equal(first.Created, afterRestart.Created);
    }

    [Fact]
    public async Task Concurrent_callers_all_get_the_first_identity()
    {
        var store = await OpenAsync();
        int calls = 0;
        var results = await Task.WhenAll(Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            await store.GetOrCreateIdentityAsync(() =>
            {
                Interlocked.Increment(ref calls);
                return NewIdentity() with { HostBuild = 20000 + i };
            }, Ct), Ct)));

        Assert.Equal(1, calls);
        Assert.Single(results.Select(r => r.HostBuild).Distinct());
    }

    [Fact]
    public async Task A_failing_factory_stores_nothing()
    {
        var store = await OpenAsync();
        await Assert.ThrowsAsync<InvalidOperationException>(
            () => store.GetOrCreateIdentityAsync(() => throw new InvalidOperationException("no key material"), Ct).AsTask());
        var identity = await store.GetOrCreateIdentityAsync(NewIdentity, Ct);
        AssertSame(NewIdentity(), identity);
    }
}
