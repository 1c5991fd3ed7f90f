using System.Net;
using KmsFarm.Activation;
using KmsFarm.Node.Hosting;
using KmsFarm.Node.Storage;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace KmsFarm.Node.Tests;

/// <summary>/healthz/ready answers within 2 s, with the reason, whatever the store does: a store whose readiness probe
/// never returns (a frozen database ignores cancellation) makes the node not ready, promptly. The probe's deadline runs on
/// a <see cref="FakeTimeProvider"/> here, so the test shows that the answer comes from the deadline (1.5 s of the node's
/// clock), not from a loaded machine's scheduling.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public void The_probe_budget_leaves_room_under_two_seconds() =>
        Assert.True(StoreReadinessProbe.Budget <= TimeSpan.FromSeconds(1.5), $"budget {StoreReadinessProbe.Budget}");

    [Fact]
    public async Task Readiness_answers_at_the_probe_budget_with_the_reason_while_the_store_hangs()
    {
        var ct = TestContext.Current.CancellationToken;
        var factory = new HangingStoreFactory();
        var clock = new FakeTimeProvider();
        await using var node = await InProcessNode.StartAsync(
            configure: b =>
            {
                b.Services.Replace(ServiceDescriptor.Singleton<IActivationStoreFactory>(factory));
                b.Services.Replace(ServiceDescriptor.Singleton(new StoreReadinessProbe(clock)));
            },
            cancellationToken: ct);
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/healthz/ready", ct)).StatusCode);

        factory.Store!.Hang();
        for (int i = 0; i < 3; i++)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(TimeSpan.FromSeconds(60));
            var answer = node.Http.GetAsync("/healthz/ready", limit.Token);

            // The first request starts the (hanging) probe; the next two share it. Until the node's clock has moved by
            // the budget there is no answer; the answer never waits for the store, which does not answer at all.
            if (i == 0)
            {
                await factory.Store.ProbeStarted.WaitAsync(limit.Token);
            }

            var advanced = TimeSpan.Zero;
            var step = TimeSpan.FromMilliseconds(100);
            while (!answer.IsCompleted)
            {
                clock.Advance(step);
                advanced += step;
                await Task.WhenAny(answer, Task.Delay(20, limit.Token));
            }

            using var response = await answer;
            Assert.True(advanced >= StoreReadinessProbe.Budget, $"answered after {advanced} of the node's clock");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("did not answer within 1.5 s", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
            Assert.Equal(1, factory.Store.ProbesStarted);
        }

        factory.Store.Release();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while ((await node.Http.GetAsync("/healthz/ready", ct)).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "not ready again within 30 s of the store answering");
            await Task.Delay(100, ct);
        }
    }

    private sealed class HangingStoreFactory : IActivationStoreFactory
    {
        public HangingStore? Store { get; private set; }

        public IActivationStore Create(StoreLocation location)
        {
            Store = new HangingStore(new StoreFactory(NullLoggerFactory.Instance).Create(location));
            return Store;
        }
    }

    /// <summary>Delegates to the real store; while hung, the readiness probe waits, ignoring its cancellation token.</summary>
    private sealed class HangingStore(IActivationStore inner) : IActivationStore
    {
        private volatile TaskCompletionSource? _hang;

        public void Hang() => _hang = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release()
        {
            var hang = _hang;
            _hang = null;
            hang?.TrySetResult();
        }

        private readonly TaskCompletionSource _probeStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _probesStarted;

        /// <summary>Completes when a readiness probe reaches the hung store.</summary>
        public Task ProbeStarted => _probeStarted.Task;

        /// <summary>Readiness probes that reached the hung store.</summary>
        public int ProbesStarted => Volatile.Read(ref _probesStarted);

        public async ValueTask<bool> IsReadyAsync(CancellationToken cancellationToken)
        {
            if (_hang is { } hang)
            {
                Interlocked.Increment(ref _probesStarted);
                _probeStarted.TrySetResult();
                await hang.Task.ConfigureAwait(false);
            }

            return await inner.IsReadyAsync(cancellationToken).ConfigureAwait(false);
        }

        public ValueTask InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public ValueTask<FarmIdentity> GetOrCreateIdentityAsync(Func<FarmIdentity> create, CancellationToken cancellationToken) =>
            inner.GetOrCreateIdentityAsync(create, cancellationToken);

        public ValueTask<StoredLedger> LoadLedgerAsync(ProductGroup group, CancellationToken cancellationToken) => inner.LoadLedgerAsync(group, cancellationToken);

        public ValueTask CommitLedgerAsync(LedgerCommit commit, CancellationToken cancellationToken) => inner.CommitLedgerAsync(commit, cancellationToken);

        public ValueTask AppendRefusalAsync(ActivationRecord record, CancellationToken cancellationToken) => inner.AppendRefusalAsync(record, cancellationToken);

        public ValueTask<LedgerSnapshot> GetLedgerAsync(ProductGroup group, DateTimeOffset now, CancellationToken cancellationToken) =>
            inner.GetLedgerAsync(group, now, cancellationToken);

        public ValueTask<IReadOnlyList<ActivationRecord>> GetHistoryAsync(int limit, CancellationToken cancellationToken) =>
            inner.GetHistoryAsync(limit, cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
