using KmsFarm.Node.Runtime;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>Two nodes over one database prune the farm's history once per interval between them: one grain for the farm
/// runs the purge on a timer, and the database's claim keeps runs at least an interval apart whichever silo runs them.</summary>
public sealed class FarmHistoryRetentionTests(PostgresFixture postgres)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(2);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_farm_purges_once_per_interval_whichever_node_runs_it()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        var logs = new[] { new CapturingLoggerProvider(), new CapturingLoggerProvider() };
        await using var a = await StartAsync(db, "node-a", logs[0]);
        await using var b = await StartAsync(db, "node-b", logs[1]);
        var store = a.Services.GetRequiredService<NodeRuntime>().Store;

        var watch = DateTimeOffset.UtcNow;
        var end = watch + TimeSpan.FromSeconds(12);
        while (DateTimeOffset.UtcNow < end)
        {
            // Old records keep arriving, so every run has something to delete and logs it.
            await store.AppendRefusalAsync(TestRecords.Refusal(DateTimeOffset.UtcNow.AddDays(-100), "test"), Ct);
            await Task.Delay(250, Ct);
        }

        var runs = logs.SelectMany(l => l.Entries).Where(e => e.EventId.Name == "HistoryPurged" && e.Time >= watch).Select(e => e.Time).Order().ToArray();
        Assert.True(runs.Length >= 3, $"{runs.Length} purge runs in 12 s with a 2 s interval");
        var gaps = runs.Zip(runs.Skip(1), (x, y) => y - x).ToArray();
        Assert.All(gaps, g => Assert.True(g >= Interval - TimeSpan.FromMilliseconds(200), $"two runs {g.TotalMilliseconds:0} ms apart: {string.Join(", ", gaps)}"));
    }

    private static Task<InProcessNode> StartAsync(string db, string name, CapturingLoggerProvider logs) =>
        InProcessNode.StartAsync(
            ["--history-purge-interval", ((int)Interval.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture)],
            builder =>
            {
                builder.Logging.AddProvider(logs);
                builder.Logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace);
            },
            "postgres:" + db,
            name,
            Ct);
}
