using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Identity;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;
using Microsoft.Extensions.Logging.Abstractions;

namespace KmsFarm.Activation.Tests;

/// <summary>An ActivationService over the in-memory store with a manual clock and a seeded identity.</summary>
internal sealed class ActivationHarness : IAsyncDisposable
{
    public static readonly Guid WindowsApp = Guid.Parse("55c92734-d682-4d71-983e-d6ec3f16059f");
    public static readonly Guid Office2010App = Guid.Parse("59a52881-a989-479d-af46-f275c6370663");
    public static readonly Guid Office2013App = Guid.Parse("0ff1ce15-a989-479d-af46-f275c6370663");
    public static readonly Guid Windows10 = Guid.Parse("58e2134f-8e11-4d17-9cb2-91069c151148");
    public static readonly Guid Windows10Retail = Guid.Parse("e1c51358-fe3e-4203-a4a2-3b6b20c9734e");
    public static readonly Guid WindowsPreview = Guid.Parse("5f94a0bb-d5a0-4081-a685-5819418b2fe0");
    public static readonly Guid Server2019 = Guid.Parse("8449b1fb-f0ea-497a-99ab-66ca96e9a0f5");
    public static readonly Guid Server2012R2 = Guid.Parse("8456efd3-0c04-4089-8740-5b7238535a65");
    public static readonly Guid Office2010 = Guid.Parse("e85af946-2e25-47b7-83e1-bebcebeac611");
    public static readonly Guid Office2016 = Guid.Parse("85b5f61b-320b-4be3-814a-b76b2bfafc82");
    public static readonly Guid Office2024 = Guid.Parse("a8973cb5-bf03-0a4c-9cef-703099645ab3");

    public ActivationHarness(ActivationPolicyOptions? options = null)
    {
        Options = options ?? new ActivationPolicyOptions();
        Identity = new FarmIdentityFactory(Catalog, Clock, RandomSource.FromRandom(new Random(20260115))).Create();
        Ledgers = new LocalProductGroupLedgers(Store, Clock, NullLogger.Instance);
        Service = new ActivationService(Catalog, Store, Ledgers, Identity, Options, Clock, "node-test", NullLogger<ActivationService>.Instance);
    }

    public static ProductCatalog Catalog => ProductCatalog.Default;

    public ManualTimeProvider Clock { get; } = new();

    public InMemoryActivationStore Store { get; } = new();

    /// <summary>The product-group writers the service applies to (one process, no Orleans).</summary>
    public LocalProductGroupLedgers Ledgers { get; }

    public FarmIdentity Identity { get; }

    public ActivationPolicyOptions Options { get; }

    public ActivationService Service { get; }

    public KmsRequest Request(Guid applicationId, Guid kmsId, Guid? cmid = null, int nPolicy = 25, DateTimeOffset? clientTime = null)
    {
        var request = new KmsRequest
        {
            MajorVersion = 6,
            ApplicationId = applicationId,
            SkuId = Guid.NewGuid(),
            KmsCountedId = kmsId,
            ClientMachineId = cmid ?? Guid.NewGuid(),
            RequiredClientCount = (uint)nPolicy,
            ClientTime = (clientTime ?? Clock.GetUtcNow()).ToFileTime(),
            LicenseStatus = 2,
        };
        request.SetWorkstationName("lab-pc");
        return request;
    }

    public ValueTask<ActivationDecision> ActivateAsync(KmsRequest request) =>
        Service.ActivateAsync(KmsProtocolVersion.V6, request, "192.0.2.10", TestContext.Current.CancellationToken);

    public async Task<int> CountAsync(Guid app, Guid kms, Guid? cmid = null, int nPolicy = 25)
    {
        var decision = await ActivateAsync(Request(app, kms, cmid, nPolicy));
        Assert.True(decision.IsSuccess, $"refused with 0x{decision.HResult:X8}");
        return (int)decision.Response.CurrentCount;
    }

    public CsvlkIdentity IdentityOf(string csvlkId) => Identity.Csvlks.Single(c => c.CsvlkId == csvlkId);

    public async ValueTask DisposeAsync()
    {
        await Service.DisposeAsync();
        Ledgers.Dispose();
    }
}
