using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Grains;

// The activation domain has no Orleans types (docs/ARCHITECTURE.md), so its types cross silos through these surrogates.
// Field ids are the wire contract between silos of different builds: never renumber, only add.

/// <summary>Wire form of <see cref="ActivationAttempt"/> (the history row travels with it). Times as UTC ticks.</summary>
[GenerateSerializer, Immutable, Alias("kmsfarm.activation-attempt")]
public struct ActivationAttemptSurrogate
{
    [Id(0)] public Guid ClientMachineId;
    [Id(1)] public int RequiredClientCount;
    [Id(2)] public long TimeUtcTicks;
    [Id(3)] public string Node;
    [Id(4)] public string ClientAddress;
    [Id(5)] public int ProtocolVersion;
    [Id(6)] public short Group;
    [Id(7)] public Guid ApplicationId;
    [Id(8)] public Guid SkuId;
    [Id(9)] public Guid KmsCountedId;
    [Id(10)] public string MachineName;
    [Id(11)] public uint LicenseStatus;
    [Id(12)] public bool IsClientVm;
    [Id(13)] public int RecordRequiredClientCount;
    [Id(14)] public uint Result;
    [Id(15)] public int CurrentCount;
    [Id(16)] public string? Epid;
}

/// <summary>Converts <see cref="ActivationAttempt"/> for the wire. A record's CMID is the attempt's; Group −1 and
/// CurrentCount −1 stand for null.</summary>
[RegisterConverter]
public sealed class ActivationAttemptConverter : IConverter<ActivationAttempt, ActivationAttemptSurrogate>
{
    public ActivationAttempt ConvertFromSurrogate(in ActivationAttemptSurrogate surrogate) => new(
        surrogate.ClientMachineId,
        surrogate.RequiredClientCount,
        new ActivationRecord
        {
            Time = new DateTimeOffset(surrogate.TimeUtcTicks, TimeSpan.Zero),
            Node = surrogate.Node,
            ClientAddress = surrogate.ClientAddress,
            ProtocolVersion = surrogate.ProtocolVersion,
            Group = surrogate.Group < 0 ? null : (ProductGroup)surrogate.Group,
            ApplicationId = surrogate.ApplicationId,
            SkuId = surrogate.SkuId,
            KmsCountedId = surrogate.KmsCountedId,
            ClientMachineId = surrogate.ClientMachineId,
            MachineName = surrogate.MachineName,
            LicenseStatus = surrogate.LicenseStatus,
            IsClientVm = surrogate.IsClientVm,
            RequiredClientCount = surrogate.RecordRequiredClientCount,
            Result = surrogate.Result,
            CurrentCount = surrogate.CurrentCount < 0 ? null : surrogate.CurrentCount,
            Epid = surrogate.Epid,
        });

    public ActivationAttemptSurrogate ConvertToSurrogate(in ActivationAttempt value)
    {
        var record = value.Record;
        if (record.ClientMachineId != value.ClientMachineId)
        {
            throw new ArgumentException("An attempt's history row must carry the attempt's CMID.", nameof(value));
        }

        return new ActivationAttemptSurrogate
        {
            ClientMachineId = value.ClientMachineId,
            RequiredClientCount = value.RequiredClientCount,
            TimeUtcTicks = record.Time.UtcTicks,
            Node = record.Node,
            ClientAddress = record.ClientAddress,
            ProtocolVersion = record.ProtocolVersion,
            Group = record.Group is { } group ? (short)group : (short)-1,
            ApplicationId = record.ApplicationId,
            SkuId = record.SkuId,
            KmsCountedId = record.KmsCountedId,
            MachineName = record.MachineName,
            LicenseStatus = record.LicenseStatus,
            IsClientVm = record.IsClientVm,
            RecordRequiredClientCount = record.RequiredClientCount,
            Result = record.Result,
            CurrentCount = record.CurrentCount ?? -1,
            Epid = record.Epid,
        };
    }
}

/// <summary>Wire form of <see cref="LedgerOutcome"/>.</summary>
[GenerateSerializer, Immutable, Alias("kmsfarm.ledger-outcome")]
public struct LedgerOutcomeSurrogate
{
    [Id(0)] public int CurrentCount;
    [Id(1)] public bool IsNewClient;
    [Id(2)] public int Capacity;
}

[RegisterConverter]
public sealed class LedgerOutcomeConverter : IConverter<LedgerOutcome, LedgerOutcomeSurrogate>
{
    public LedgerOutcome ConvertFromSurrogate(in LedgerOutcomeSurrogate surrogate) => new(surrogate.CurrentCount, surrogate.IsNewClient, surrogate.Capacity);

    public LedgerOutcomeSurrogate ConvertToSurrogate(in LedgerOutcome value) =>
        new() { CurrentCount = value.CurrentCount, IsNewClient = value.IsNewClient, Capacity = value.Capacity };
}
