using KmsFarm.Protocol.Catalog;
using Microsoft.Extensions.Logging.Abstractions;

namespace KmsFarm.Activation.Tests;

/// <summary>Group commit: what queues while a call is in flight goes out as the next call, units whole.</summary>
public sealed class GroupCommitBatcherTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task What_queues_during_a_call_goes_out_next_and_a_unit_is_never_split()
    {
        var calls = new List<int>();
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var batcher = new GroupCommitBatcher(ProductGroup.Windows, async (attempts, _) =>
        {
            lock (calls)
            {
                calls.Add(attempts.Count);
            }

            await gate.Task;
            return attempts.Select((_, i) => new LedgerOutcome(i + 1, true, 50)).ToArray();
        }, NullLogger.Instance);

        var first = batcher.EnqueueAsync(Attempt(), Ct);
        await WaitForAsync(() => calls.Count == 1);
        var big = batcher.EnqueueAsync(Enumerable.Range(0, 200).Select(_ => Attempt()).ToArray(), Ct);
        var other = batcher.EnqueueAsync(Enumerable.Range(0, 100).Select(_ => Attempt()).ToArray(), Ct);
        var single = batcher.EnqueueAsync(Attempt(), Ct);
        gate.SetResult();

        Assert.Equal(1, (await first).CurrentCount);
        Assert.Equal(Enumerable.Range(1, 200), (await big).Select(o => o.CurrentCount));
        Assert.Equal(Enumerable.Range(1, 100), (await other).Select(o => o.CurrentCount));
        Assert.Equal(101, (await single).CurrentCount);

        // 200 + 100 > 256: the second unit waits for the next call rather than being cut; the single attempt joins it.
        Assert.Equal([1, 200, 101], calls);
    }

    [Fact]
    public async Task A_failed_call_fails_every_unit_in_it_and_the_next_call_goes_ahead()
    {
        int call = 0;
        await using var batcher = new GroupCommitBatcher(ProductGroup.Windows, (attempts, _) =>
            Interlocked.Increment(ref call) == 1
                ? throw new IOException("down")
                : ValueTask.FromResult<IReadOnlyList<LedgerOutcome>>(attempts.Select(_ => new LedgerOutcome(7, false, 50)).ToArray()),
            NullLogger.Instance);

        await Assert.ThrowsAsync<IOException>(() => batcher.EnqueueAsync([Attempt(), Attempt()], Ct));
        Assert.Equal(7, (await batcher.EnqueueAsync(Attempt(), Ct)).CurrentCount);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        for (int i = 0; !condition(); i++)
        {
            Assert.True(i < 1000, "the batcher never called its sink");
            await Task.Delay(10, Ct);
        }
    }

    private static ActivationAttempt Attempt()
    {
        var cmid = Guid.NewGuid();
        return new ActivationAttempt(cmid, 25, new ActivationRecord
        {
            Time = DateTimeOffset.UnixEpoch,
            Node = "n",
            ClientAddress = "192.0.2.1",
            ProtocolVersion = 6,
            Group = ProductGroup.Windows,
            ApplicationId = Guid.Empty,
            SkuId = Guid.Empty,
            KmsCountedId = Guid.Empty,
            ClientMachineId = cmid,
            MachineName = "pc",
            LicenseStatus = 2,
            IsClientVm = false,
            RequiredClientCount = 25,
            Result = 0,
        });
    }
}
