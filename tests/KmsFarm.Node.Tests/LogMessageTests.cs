using System.Net.Sockets;
using KmsFarm.Activation;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Node.Storage;
using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KmsFarm.Node.Tests;

/// <summary>What the node's own log lines say: the protocol version as the client sent it, and a client that hangs up
/// before its answer is not reported as a store failure.</summary>
public sealed class LogMessageTests
{
    [Theory]
    [InlineData(KmsProtocolVersion.V4, "KMS V4 request")]
    [InlineData(KmsProtocolVersion.V5, "KMS V5 request")]
    [InlineData(KmsProtocolVersion.V6, "KMS V6 request")]
    public async Task The_answered_line_names_the_protocol_version_once(KmsProtocolVersion version, string expected)
    {
        var ct = TestContext.Current.CancellationToken;
        var logs = new CapturingLoggerProvider();
        await using var node = await InProcessNode.StartAsync(configure: b => Capture(b, logs), cancellationToken: ct);

        await using (var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, ct))
        {
            var (hresult, _) = await client.RequestAsync(version, RawKmsClient.WindowsProRequest(Guid.NewGuid(), version), ndr64: false, ct);
            Assert.Equal(KmsHResults.Success, hresult);
        }

        var answered = Assert.Single(logs.Entries, e => e.EventId.Id == KmsEventId.RpcRequestAnswered);
        Assert.Contains(expected, answered.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("VV", answered.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_client_that_hangs_up_before_its_answer_is_not_a_store_failure()
    {
        var ct = TestContext.Current.CancellationToken;
        var logs = new CapturingLoggerProvider();
        var gated = new GatedStoreFactory();
        await using var node = await InProcessNode.StartAsync(
            configure: b =>
            {
                Capture(b, logs);
                b.Services.Replace(ServiceDescriptor.Singleton<IActivationStoreFactory>(gated));
            },
            cancellationToken: ct);

        gated.Store!.Hold();
        var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, ct);
        var payload = new byte[KmsClientCodec.MaxRequestLength];
        int length = KmsClientCodec.EncodeRequest(KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), payload, out _);
        await client.Connection.SendAsync(RawKmsClient.BuildRequestPdu(payload.AsSpan(0, length), ndr64: false, callId: 2), ct);
        await gated.Store.CommitStarted.WaitAsync(TimeSpan.FromSeconds(30), ct);

        // An abortive close (RST), as a client that gives up does.
        client.Connection.Socket.LingerState = new LingerOption(true, 0);
        await client.DisposeAsync();
        await WaitForAsync(() => logs.Entries.Any(e => e.EventId.Id == KmsEventId.ConnectionClosed), ct);
        gated.Store.Release();

        Assert.DoesNotContain(logs.Entries, e => e.Level >= LogLevel.Warning && e.Category.StartsWith("KmsFarm", StringComparison.Ordinal));
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("store failed", StringComparison.OrdinalIgnoreCase));
        var hungUp = Assert.Single(logs.Entries, e => e.EventId.Name == "ClientClosedBeforeAnswer");
        Assert.Equal(LogLevel.Debug, hungUp.Level);
    }

    /// <summary>A farm created on an old host build says which CSVLKs are newer than it and which build their ePIDs claim.</summary>
    [Fact]
    public async Task A_new_identity_on_an_old_build_names_the_newer_csvlks_and_their_builds()
    {
        var ct = TestContext.Current.CancellationToken;
        var logs = new CapturingLoggerProvider();
        await using var node = await InProcessNode.StartAsync(["--host-build", "7601"], configure: b => Capture(b, logs), cancellationToken: ct);

        var line = Assert.Single(logs.Entries, e => e.EventId.Name == "NewerCsvlksOnOlderBuilds");
        Assert.Equal(LogLevel.Information, line.Level);
        Assert.Contains("host build 7601", line.Message, StringComparison.Ordinal);
        Assert.Contains("WindowsServer2025 17763", line.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("WindowsServer2008R2B", line.Message, StringComparison.Ordinal);
    }

    internal static void Capture(Microsoft.AspNetCore.Builder.WebApplicationBuilder builder, CapturingLoggerProvider logs)
    {
        builder.Logging.AddProvider(logs);
        builder.Logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace);
    }

    private static async Task WaitForAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not come true within 20 s");
            await Task.Delay(50, cancellationToken);
        }
    }

    private sealed class GatedStoreFactory : IActivationStoreFactory
    {
        public GatedStore? Store { get; private set; }

        public IActivationStore Create(StoreLocation location)
        {
            Store = new GatedStore(new StoreFactory(NullLoggerFactory.Instance).Create(location));
            return Store;
        }
    }

    /// <summary>Delegates to the real store; while held, ledger commits wait until released.</summary>
    private sealed class GatedStore(IActivationStore inner) : IActivationStore
    {
        private TaskCompletionSource _gate = Completed();
        private TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task CommitStarted => _started.Task;

        public void Hold()
        {
            _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        public void Release() => _gate.TrySetResult();

        public ValueTask InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public ValueTask<FarmIdentity> GetOrCreateIdentityAsync(Func<FarmIdentity> create, CancellationToken cancellationToken) =>
            inner.GetOrCreateIdentityAsync(create, cancellationToken);

        public ValueTask<StoredLedger> LoadLedgerAsync(ProductGroup group, CancellationToken cancellationToken) => inner.LoadLedgerAsync(group, cancellationToken);

        public async ValueTask CommitLedgerAsync(LedgerCommit commit, CancellationToken cancellationToken)
        {
            _started.TrySetResult();
            await _gate.Task.ConfigureAwait(false);
            await inner.CommitLedgerAsync(commit, cancellationToken).ConfigureAwait(false);
        }

        public ValueTask AppendRefusalAsync(ActivationRecord record, CancellationToken cancellationToken) => inner.AppendRefusalAsync(record, cancellationToken);

        public ValueTask<LedgerSnapshot> GetLedgerAsync(ProductGroup group, DateTimeOffset now, CancellationToken cancellationToken) =>
            inner.GetLedgerAsync(group, now, cancellationToken);

        public ValueTask<IReadOnlyList<ActivationRecord>> GetHistoryAsync(int limit, CancellationToken cancellationToken) =>
            inner.GetHistoryAsync(limit, cancellationToken);

        public ValueTask<bool> IsReadyAsync(CancellationToken cancellationToken) => inner.IsReadyAsync(cancellationToken);

        public ValueTask DisposeAsync() => inner.DisposeAsync();

        private static TaskCompletionSource Completed()
        {
            var done = new TaskCompletionSource();
            done.SetResult();
            return done;
        }
    }
}
