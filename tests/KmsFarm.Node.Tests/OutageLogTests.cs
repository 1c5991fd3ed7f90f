using KmsFarm.Node.Storage;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Node.Tests;

/// <summary>While the store is down every request fails; the node says so, but not once per request or per batch at each
/// layer: a few Warning lines per half minute, each counting what it held back.</summary>
public sealed class OutageLogTests
{
    [Fact]
    public async Task An_outage_is_a_few_warning_lines_not_one_per_request()
    {
        var ct = TestContext.Current.CancellationToken;
        var logs = new CapturingLoggerProvider();
        var factory = new FailingActivationStoreFactory();
        await using var node = await InProcessNode.StartAsync(
            configure: b =>
            {
                b.Logging.AddProvider(logs);
                b.Logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace);
                b.Services.Replace(ServiceDescriptor.Singleton<IActivationStoreFactory>(factory));
            },
            cancellationToken: ct);
        await using (var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, ct))
        {
            Assert.Equal(KmsHResults.Success, (await client.RequestAsync(KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), false, ct)).HResult);
        }

        factory.Store!.Failing = true;
        for (int i = 0; i < 40; i++)
        {
            await using var client = await RawKmsClient.ConnectAsync(node.KmsEndPoint, ct);
            var payload = new byte[KmsClientCodec.MaxRequestLength];
            int length = KmsClientCodec.EncodeRequest(KmsProtocolVersion.V6, RawKmsClient.WindowsProRequest(Guid.NewGuid()), payload, out _);
            await client.Connection.SendAsync(RawKmsClient.BuildRequestPdu(payload.AsSpan(0, length), ndr64: false, callId: 2), ct);
            Assert.Equal(0, await client.Connection.ReadUntilClosedAsync(ct));
        }

        var warnings = logs.Entries.Where(e => e.Level >= LogLevel.Warning && e.Category.StartsWith("KmsFarm", StringComparison.Ordinal)).ToArray();
        Assert.NotEmpty(warnings);
        Assert.True(warnings.Length <= 6, $"{warnings.Length} warnings for 40 failed requests:\n" + string.Join('\n', warnings.Select(w => $"{w.Category}: {w.Message}")));
    }
}
