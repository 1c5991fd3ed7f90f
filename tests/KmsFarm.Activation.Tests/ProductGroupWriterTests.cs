using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using Microsoft.Extensions.Logging.Abstractions;

namespace KmsFarm.Activation.Tests;

/// <summary>The single writer of a group: loads once, keeps its copy while its commits succeed, never lets memory run ahead
/// of the store, and is fenced off when someone else committed.</summary>
public sealed class ProductGroupWriterTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Loads_once_and_commits_each_batch_with_the_version_it_holds()
    {
        var store = new InMemoryActivationStore();
        var writer = Writer(store);
        Assert.False(writer.IsLoaded);
        Assert.Equal([1, 2, 3], (await writer.ApplyAsync([Attempt(1), Attempt(2), Attempt(3)], Ct)).Select(o => o.CurrentCount));
        Assert.Equal([4, 4], (await writer.ApplyAsync([Attempt(4), Attempt(2)], Ct)).Select(o => o.CurrentCount));
        Assert.Equal(1, store.Loads);
        Assert.Equal((2L, 2L), (writer.Version, store.VersionOf(ProductGroup.Windows)));
        Assert.Equal(4, writer.Count);

        // The history rows carry the group, the counts and result 0; the store keeps the cache in the order of the last touch.
        Assert.Equal([1, 2, 3, 4, 4], store.History.Select(r => r.CurrentCount!.Value));
        Assert.All(store.History, r => Assert.Equal((ProductGroup?)ProductGroup.Windows, r.Group));
        var cache = await store.GetLedgerAsync(ProductGroup.Windows, T0, Ct);
        Assert.Equal([Cmid(1), Cmid(3), Cmid(4), Cmid(2)], cache.Entries.Select(e => e.ClientMachineId));
    }

    [Fact]
    public async Task A_failed_commit_leaves_no_trace_in_memory_and_the_next_batch_reloads()
    {
        var store = new InMemoryActivationStore();
        var writer = Writer(store);
        await writer.ApplyAsync([Attempt(1), Attempt(2)], Ct);
        store.BeforeCommit = (_, _) => throw new IOException("database unreachable");
        await Assert.ThrowsAsync<IOException>(async () => await writer.ApplyAsync([Attempt(3), Attempt(4)], Ct));
        Assert.False(writer.IsLoaded);

        store.BeforeCommit = null;
        Assert.Equal([3], (await writer.ApplyAsync([Attempt(3)], Ct)).Select(o => o.CurrentCount));
        Assert.Equal(2, store.Loads);
        Assert.Equal(3, store.History.Count);
    }

    [Fact]
    public async Task A_writer_whose_group_moved_on_is_fenced_and_continues_from_the_store_after_reloading()
    {
        var store = new InMemoryActivationStore();
        var first = Writer(store);
        var second = Writer(store);
        await first.LoadAsync(Ct);
        await second.ApplyAsync([Attempt(1)], Ct);

        await Assert.ThrowsAsync<LedgerVersionConflictException>(async () => await first.ApplyAsync([Attempt(2)], Ct));
        Assert.Equal(1, store.Conflicts);
        Assert.Single(store.History);
        Assert.Equal([2], (await first.ApplyAsync([Attempt(2)], Ct)).Select(o => o.CurrentCount));
    }

    [Fact]
    public async Task Status_is_the_last_committed_state_while_a_commit_is_in_flight_and_after_a_failed_one()
    {
        var store = new InMemoryActivationStore();
        var writer = Writer(store);
        Assert.Equal(new WriterStatus(0, 0, 0), writer.Status);
        await writer.ApplyAsync([Attempt(1), Attempt(2)], Ct);
        var committed = new WriterStatus(2, 50, 1);
        Assert.Equal(committed, writer.Status);

        var entered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.BeforeCommit = async (_, ct) =>
        {
            entered.TrySetResult();
            await release.Task.WaitAsync(ct);
        };
        var applying = writer.ApplyAsync([Attempt(3)], Ct).AsTask();
        await entered.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(0, writer.Count); // While committing the writer holds no cache ...
        Assert.Equal(committed, writer.Status); // ... and its status is still what the store has.
        release.TrySetResult();
        await applying;
        Assert.Equal(new WriterStatus(3, 50, 2), writer.Status);

        store.BeforeCommit = (_, _) => throw new IOException("database unreachable");
        await Assert.ThrowsAsync<IOException>(async () => await writer.ApplyAsync([Attempt(4)], Ct));
        Assert.Equal(new WriterStatus(3, 50, 2), writer.Status);
    }

    [Fact]
    public async Task Times_are_applied_in_whole_microseconds()
    {
        var store = new InMemoryActivationStore();
        var clock = new ManualTimeProvider(T0.AddTicks(12345677));
        var writer = new ProductGroupWriter(ProductGroup.Windows, store, clock, NullLogger.Instance);
        await writer.ApplyAsync([Attempt(1)], Ct);
        var entry = (await store.GetLedgerAsync(ProductGroup.Windows, T0, Ct)).Entries.Single();
        Assert.Equal(T0.AddTicks(12345670), entry.LastSeen);
    }

    private static ProductGroupWriter Writer(InMemoryActivationStore store) =>
        new(ProductGroup.Windows, store, new ManualTimeProvider(T0), NullLogger.Instance);

    private static Guid Cmid(int i) => new(i, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10);

    private static ActivationAttempt Attempt(int client) => new(Cmid(client), 25, new ActivationRecord
    {
        Time = T0,
        Node = "n",
        ClientAddress = "192.0.2.1",
        ProtocolVersion = 6,
        Group = null,
        ApplicationId = Guid.Empty,
        SkuId = Guid.Empty,
        KmsCountedId = Guid.Empty,
        ClientMachineId = Cmid(client),
        MachineName = "pc-" + client,
        LicenseStatus = 2,
        IsClientVm = false,
        RequiredClientCount = 25,
        Result = 0,
    });
}
