using KmsFarm.Node.Runtime;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;

namespace KmsFarm.Node.Tests;

/// <summary>A node prunes its history in the background: records older than the retention (default 90 days) go, newer
/// ones stay, and the run is one log line.</summary>
public sealed class HistoryRetentionTests
{
    [Fact]
    public async Task Records_older_than_the_retention_are_deleted_in_the_background()
    {
        var ct = TestContext.Current.CancellationToken;
        var logs = new CapturingLoggerProvider();
        await using var node = await InProcessNode.StartAsync(
            ["--history-purge-interval", "1"], b => LogMessageTests.Capture(b, logs), cancellationToken: ct);
        var store = node.Services.GetRequiredService<NodeRuntime>().Store;
        var now = DateTimeOffset.UtcNow;
        for (int i = 0; i < 30; i++)
        {
            await store.AppendRefusalAsync(TestRecords.Refusal(now.AddDays(-100).AddMinutes(i)), ct);
        }

        var kept = TestRecords.Refusal(now.AddDays(-89));
        await store.AppendRefusalAsync(kept, ct);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await store.GetHistoryAsync(100, ct)).Count > 1)
        {
            Assert.True(DateTime.UtcNow < deadline, "the old records were not deleted within 30 s");
            await Task.Delay(200, ct);
        }

        Assert.Equal(kept.ClientMachineId, Assert.Single(await store.GetHistoryAsync(100, ct)).ClientMachineId);
        Assert.Contains(logs.Entries, e => e.EventId.Name == "HistoryPurged" && e.Message.Contains("deleted 30 ", StringComparison.Ordinal));
    }
}
