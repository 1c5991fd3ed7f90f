using KmsFarm.TestKit;
using Microsoft.Extensions.Logging.Abstractions;

namespace KmsFarm.Activation.Tests;

public sealed class HistoryPurgerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_run_deletes_what_is_older_than_the_retention_in_batches_and_runs_once_per_interval()
    {
        var clock = new ManualTimeProvider();
        var store = new InMemoryActivationStore();
        var now = clock.GetUtcNow();
        for (int i = 0; i < 25; i++)
        {
            await store.AppendRefusalAsync(TestRecords.Refusal(now.AddDays(-95).AddMinutes(i)), Ct);
        }

        await store.AppendRefusalAsync(TestRecords.Refusal(now.AddDays(-89)), Ct);
        var policy = new HistoryRetentionPolicy { BatchSize = 10, Pause = TimeSpan.Zero };
        var purger = new HistoryPurger(store, policy, clock, NullLogger.Instance);

        Assert.Equal(25, await purger.RunAsync(Ct));
        Assert.Single(store.History);
        Assert.Null(await purger.RunAsync(Ct));
        clock.Advance(TimeSpan.FromDays(1));
        Assert.Equal(0, await purger.RunAsync(Ct));
        clock.Advance(TimeSpan.FromDays(1.5));
        Assert.Equal(1, await purger.RunAsync(Ct));
        Assert.Null(await new HistoryPurger(store, policy with { Retention = TimeSpan.Zero }, clock, NullLogger.Instance).RunAsync(Ct));
    }
}
