using System.Diagnostics;
using System.Net;
using KmsFarm.Activation;
using KmsFarm.Node.Storage;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging.Abstractions;

namespace KmsFarm.Node.Tests;

/// <summary>/healthz/ready answers within 2 s, with the reason, whatever the store does: a store whose readiness probe
/// never returns (a frozen database ignores cancellation) makes the node not ready, promptly.</summary>
public sealed class ReadinessTests
{
    [Fact]
    public async Task Readiness_answers_within_two_seconds_with_the_reason_while_the_store_hangs()
    {
        var ct = TestContext.Current.CancellationToken;
        var factory = new HangingStoreFactory();
        await using var node = await InProcessNode.StartAsync(
            configure: b => b.Services.Replace(ServiceDescriptor.Singleton<IActivationStoreFactory>(factory)), cancellationToken: ct);
        Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/healthz/ready", ct)).StatusCode);

        factory.Store!.Hang();
        for (int i = 0; i < 3; i++)
        {
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(TimeSpan.FromSeconds(10));
            var clock = Stopwatch.StartNew();
            var response = await node.Http.GetAsync("/healthz/ready", limit.Token);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"readiness took {clock.Elapsed}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Contains("did not answer within", await response.Content.ReadAsStringAsync(ct), StringComparison.Ordinal);
        }

        factory.Store.Release();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((await node.Http.GetAsync("/healthz/ready", ct)).StatusCode != HttpStatusCode.OK)
        {
            Assert.True(DateTime.UtcNow < deadline, "not ready again within 10 s of the store answering");
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

        public async ValueTask<bool> IsReadyAsync(CancellationToken cancellationToken)
        {
            if (_hang is { } hang)
            {
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
