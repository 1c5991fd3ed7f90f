using System.Diagnostics.Metrics;
using KmsFarm.Activation;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Node.Storage;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace KmsFarm.Node.Tests;

/// <summary>The store's instruments (<see cref="StoreMetrics"/>), recorded by <see cref="MeteredActivationStore"/> around a
/// real in-memory store driven by the group's writer.</summary>
public sealed class StoreMetricsTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly InMemoryActivationStore _inner = new();
    private readonly MeteredActivationStore _store;
    private readonly MetricCollector<double> _duration;
    private readonly MetricCollector<int> _batchSize;
    private readonly MetricCollector<long> _errors;

    public StoreMetricsTests()
    {
        var factory = _services.GetRequiredService<IMeterFactory>();
        _store = new MeteredActivationStore(_inner, new StoreMetrics(factory));
        _duration = new MetricCollector<double>(factory, KmsMetrics.MeterName, "kms.store.operation.duration");
        _batchSize = new MetricCollector<int>(factory, KmsMetrics.MeterName, "kms.store.batch.size");
        _errors = new MetricCollector<long>(factory, KmsMetrics.MeterName, "kms.store.errors");
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Loads_commits_refusals_and_counts_are_timed_and_commits_give_their_batch_size()
    {
        var writer = Writer();
        await writer.LoadAsync(Ct);
        await writer.ApplyAsync([Attempt(Guid.NewGuid()), Attempt(Guid.NewGuid()), Attempt(Guid.NewGuid())], Ct);
        await _store.AppendRefusalAsync(Attempt(Guid.NewGuid()).Record with { Group = null, Result = 0xC004F042 }, Ct);
        Assert.Equal(3, await _store.CountClientsSeenSinceAsync(ProductGroup.Windows, T0.AddDays(-30), Ct));

        Assert.Equal("s", _duration.Instrument!.Unit);
        Assert.Equal(
            ["load_ledger windows", "commit_ledger windows", "append_refusal unknown", "count_clients windows"],
            _duration.GetMeasurementSnapshot().Select(m => $"{m.Tags["db.operation.name"]} {m.Tags["kms.product.group"]}"));
        Assert.All(_duration.GetMeasurementSnapshot(), m => Assert.Equal(2, m.Tags.Count));

        Assert.Equal("{attempt}", _batchSize.Instrument!.Unit);
        var batch = Assert.Single(_batchSize.GetMeasurementSnapshot());
        Assert.Equal(3, batch.Value);
        Assert.Equal(["kms.product.group"], batch.Tags.Keys);
        Assert.Empty(_errors.GetMeasurementSnapshot());
    }

    [Fact]
    public async Task A_fenced_commit_and_a_failing_store_are_counted_as_errors_by_type()
    {
        // Two writers loaded at the same version: the second to commit is fenced off.
        var first = Writer();
        var second = Writer();
        await first.LoadAsync(Ct);
        await second.LoadAsync(Ct);
        await first.ApplyAsync([Attempt(Guid.NewGuid())], Ct);
        await Assert.ThrowsAsync<LedgerVersionConflictException>(async () => await second.ApplyAsync([Attempt(Guid.NewGuid())], Ct));

        _inner.BeforeCommit = (_, _) => throw new IOException("database unreachable");
        await Assert.ThrowsAsync<IOException>(async () => await first.ApplyAsync([Attempt(Guid.NewGuid())], Ct));

        Assert.Equal("{error}", _errors.Instrument!.Unit);
        Assert.Equal(
            ["commit_ledger windows version_conflict", "commit_ledger windows System.IO.IOException"],
            _errors.GetMeasurementSnapshot()
                .Select(m => $"{m.Tags["db.operation.name"]} {m.Tags["kms.product.group"]} {m.Tags["error.type"]}"));
        Assert.All(_errors.GetMeasurementSnapshot(), m => Assert.Equal(1, m.Value));

        // Failed calls are timed too, with their error type; their batch is not counted as written.
        Assert.Equal(2, _duration.GetMeasurementSnapshot().Count(m => m.Tags.ContainsKey("error.type")));
        Assert.Single(_batchSize.GetMeasurementSnapshot());
    }

    public void Dispose()
    {
        _duration.Dispose();
        _batchSize.Dispose();
        _errors.Dispose();
        _services.Dispose();
    }

    private ProductGroupWriter Writer() => new(ProductGroup.Windows, _store, new ManualTimeProvider(T0), NullLogger.Instance);

    private static ActivationAttempt Attempt(Guid cmid) =>
        new(cmid, 25, new ActivationRecord
        {
            Time = T0,
            Node = "node-a",
            ClientAddress = "127.0.0.1",
            ProtocolVersion = 6,
            Group = ProductGroup.Windows,
            ApplicationId = Guid.Parse("55c92734-d682-4d71-983e-d6ec3f16059f"),
            SkuId = Guid.NewGuid(),
            KmsCountedId = Guid.NewGuid(),
            ClientMachineId = cmid,
            MachineName = "pc",
            LicenseStatus = 2,
            IsClientVm = false,
            RequiredClientCount = 25,
            Result = 0,
        });
}
