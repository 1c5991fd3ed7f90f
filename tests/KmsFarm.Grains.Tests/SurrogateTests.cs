using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Serialization;

namespace KmsFarm.Grains.Tests;

/// <summary>The domain's types cross silos through the surrogates in DomainSurrogates.cs and the grain contract's
/// records: every field survives the cluster's serializer and copier, nulls included.</summary>
[Collection(ClusterCollection.Name)]
[Trait("Category", "Cluster")]
public sealed class SurrogateTests(ClusterFixture fixture)
{
    private static readonly Guid Cmid = Guid.Parse("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0");

    /// <summary>Every field set, none at its default, every nullable one non-null.</summary>
    private static ActivationAttempt Full => new(Cmid, 25, new ActivationRecord
    {
        Time = new DateTimeOffset(2026, 3, 1, 12, 34, 56, TimeSpan.Zero).AddTicks(1234567),
        Node = "node-b",
        ClientAddress = "192.0.2.44:50123",
        ProtocolVersion = 6,
        Group = ProductGroup.Office2013Plus,
        ApplicationId = Guid.Parse("0ff1ce15-a989-479d-af46-f275c6370663"),
        SkuId = Guid.Parse("d450596f-894d-49e0-966a-fd39ed4c4c64"),
        KmsCountedId = Guid.Parse("e6a6f1bf-9d40-40c3-aa9f-c77ba21578c0"),
        ClientMachineId = Cmid,
        MachineName = "pc-ünïcode-42",
        LicenseStatus = uint.MaxValue,
        IsClientVm = true,
        RequiredClientCount = 5,
        Result = 0xC004F042,
        CurrentCount = 37,
        Epid = "05426-00206-471-123456-03-1033-9200.0000-0602026",
    });

    /// <summary>The nullable fields null (an attempt as a node builds it: no group, no count, no ePID yet).</summary>
    private static ActivationAttempt WithNulls => Full with { Record = Full.Record with { Group = null, CurrentCount = null, Epid = null } };

    /// <summary>Values next to the ones the surrogate uses for null: group 0 (Windows) and count 0.</summary>
    private static ActivationAttempt AtZero => Full with { Record = Full.Record with { Group = ProductGroup.Windows, CurrentCount = 0, Result = 0 } };

    public static TheoryData<string> Cases => new(nameof(Full), nameof(WithNulls), nameof(AtZero));

    private Serializer Serializer => fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<Serializer>();

    private DeepCopier Copier => fixture.Cluster.Silos[0].ServiceProvider.GetRequiredService<DeepCopier>();

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_activation_attempt_survives_the_serializer_and_the_copier(string name)
    {
        var attempt = Case(name);
        var copy = RoundTrip(attempt);
        Assert.Equal(attempt, copy);
        Assert.Equal(TimeSpan.Zero, copy.Record.Time.Offset);
        Assert.Equal(attempt, Copier.Copy(attempt));

        // Inside the grain call's argument too.
        var batch = RoundTrip(new ActivationBatch([attempt, Full]));
        Assert.Equal([attempt, Full], batch.Attempts);
    }

    [Fact]
    public void A_time_with_an_offset_crosses_as_the_same_instant_in_UTC()
    {
        var local = Full with { Record = Full.Record with { Time = new DateTimeOffset(2026, 3, 1, 14, 34, 56, TimeSpan.FromHours(2)) } };
        var copy = RoundTrip(local);
        Assert.Equal(local.Record.Time.UtcTicks, copy.Record.Time.UtcTicks);
        Assert.Equal(TimeSpan.Zero, copy.Record.Time.Offset);
    }

    [Fact]
    public void An_attempt_whose_history_row_names_another_CMID_is_refused_on_the_way_out()
    {
        var mismatched = Full with { Record = Full.Record with { ClientMachineId = Guid.NewGuid() } };
        Assert.ThrowsAny<ArgumentException>(() => Serializer.SerializeToArray(mismatched));
    }

    [Fact]
    public void Apply_results_and_statuses_survive_the_serializer()
    {
        var result = new ApplyResult([new LedgerOutcome(1, true, 50), new LedgerOutcome(50, false, 50)], Fenced: false);
        var copy = RoundTrip(result);
        Assert.Equal(result.Outcomes, copy.Outcomes);
        Assert.False(copy.Fenced);

        var fenced = RoundTrip(ApplyResult.FencedOff);
        Assert.True(fenced.Fenced);
        Assert.Empty(fenced.Outcomes);

        var status = new ProductGroupStatus(37, 2000, 1L << 40);
        Assert.Equal(status, RoundTrip(status));
        Assert.Equal(status, Copier.Copy(status));
    }

    /// <summary>The bytes of an attempt are the wire contract between silos of different builds. If this fails, a farm
    /// being upgraded node by node would misread attempts: keep the field ids, add new ones, and only then update the
    /// bytes here.</summary>
    [Fact]
    public void The_wire_form_of_an_attempt_is_unchanged()
    {
        Assert.Equal(WireForm, Convert.ToHexString(Serializer.SerializeToArray(Full)));
    }

    private const string WireForm =
        "2040213C2D1E0F5A4B78698796A5B4C3D2E1F0016581872EEFF18E77DE08410D6E6F64652D6241213139322E302E322E"
        + "34343A353031323301190109412115CEF10F89A99D47AF46F275C637066341216F5950D44D89E049966AFD39ED4C4C64"
        + "4121BFF1A6E6409DC340AA9FC77BA21578C0411F70632DC3BC6EC3AF636F64652D343261FFFFFFFF010301156142F004"
        + "C00195416130353432362D30303230362D3437312D3132333435362D30332D313033332D393230302E303030302D3036"
        + "3032303236E0";

    private T RoundTrip<T>(T value)
        where T : class
    {
        var copy = Serializer.Deserialize<T>(Serializer.SerializeToArray(value));
        Assert.NotNull(copy);
        return copy;
    }

    private static ActivationAttempt Case(string name) => name switch
    {
        nameof(Full) => Full,
        nameof(WithNulls) => WithNulls,
        nameof(AtZero) => AtZero,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };
}
