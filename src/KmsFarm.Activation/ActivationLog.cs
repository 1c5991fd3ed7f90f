using Microsoft.Extensions.Logging;

namespace KmsFarm.Activation;

internal static partial class ActivationLog
{
    [LoggerMessage(ActivationEventIds.Activated, LogLevel.Debug,
        "Activated {ClientAddress} {MachineName} CMID {ClientMachineId}: {Product} ({KmsCountedId}) in {Group}, count {Count} (ledger {LedgerCount}), new {IsNewClient}",
        EventName = "Activated")]
    public static partial void Activated(ILogger logger, string clientAddress, string machineName, Guid clientMachineId, string product,
        Guid kmsCountedId, string group, int count, int ledgerCount, bool isNewClient);

    [LoggerMessage(ActivationEventIds.Refused, LogLevel.Debug,
        "Refused {ClientAddress} with 0x{HResult:X8} ({Reason}): application {ApplicationId}, KMS id {KmsCountedId}",
        EventName = "Refused")]
    public static partial void Refused(ILogger logger, string clientAddress, uint hResult, string reason, Guid applicationId, Guid kmsCountedId);

    [LoggerMessage(ActivationEventIds.UnknownProductActivated, LogLevel.Information,
        "Unknown KMS id {KmsCountedId} (application {ApplicationId}, SKU {SkuId}) from {ClientAddress} activated with fallback CSVLK {Csvlk} (logged once per id unless at Debug)",
        EventName = "UnknownProductActivated")]
    public static partial void UnknownProductActivated(ILogger logger, Guid kmsCountedId, Guid applicationId, Guid skuId, string clientAddress, string csvlk);

    [LoggerMessage(ActivationEventIds.BatchFailed, LogLevel.Warning,
        "A batch of {Count} activation(s) for {Group} was not committed; every caller of the batch gets the error. " +
        "{Suppressed} more failed batch(es) since the last line",
        EventName = "BatchFailed")]
    public static partial void BatchFailed(ILogger logger, Exception exception, int count, string group, long suppressed);

    [LoggerMessage(ActivationEventIds.BatchApplied, LogLevel.Trace, "Applied a batch of {Count} activation(s) for {Group}",
        EventName = "BatchApplied")]
    public static partial void BatchApplied(ILogger logger, int count, string group);

    [LoggerMessage(ActivationEventIds.Stopping, LogLevel.Information,
        "Activation service stopping: finishing the pending activations", EventName = "Stopping")]
    public static partial void Stopping(ILogger logger);

    [LoggerMessage(ActivationEventIds.CsvlkWithoutIdentity, LogLevel.Warning,
        "CSVLK {Csvlk} is served but the farm identity has no ePID for it (identity created from an older catalog); it is not used",
        EventName = "CsvlkWithoutIdentity")]
    public static partial void CsvlkWithoutIdentity(ILogger logger, string csvlk);

    [LoggerMessage(ActivationEventIds.RequestProcessed, LogLevel.Information,
        "An activation request has been processed: result 0x{Result:X8}, count {Count}, client {MachineName} ({ClientAddress}) at {Time}, " +
        "client time {ClientTime}, license status {LicenseStatus}, VM {IsClientVm}, SKU {SkuId}, protocol {ProtocolVersion}",
        EventName = "RequestProcessed", SkipEnabledCheck = true)]
    public static partial void RequestProcessed(ILogger logger, uint result, int count, string machineName, string clientAddress,
        string time, string clientTime, uint licenseStatus, bool isClientVm, Guid skuId, int protocolVersion);

    [LoggerMessage(ActivationEventIds.LedgerLoaded, LogLevel.Debug,
        "Loaded the {Group} ledger at version {Version}: {Count} entries, capacity {Capacity}", EventName = "LedgerLoaded")]
    public static partial void LedgerLoaded(ILogger logger, string group, long version, int count, int capacity);

    [LoggerMessage(ActivationEventIds.HistoryPurged, LogLevel.Information,
        "History retention: deleted {Deleted} activation record(s) from before {Cutoff:u} in {Batches} batch(es), {Elapsed}",
        EventName = "HistoryPurged")]
    public static partial void HistoryPurged(ILogger logger, long deleted, DateTimeOffset cutoff, int batches, TimeSpan elapsed);

    [LoggerMessage(ActivationEventIds.HistoryPurgeNotDue, LogLevel.Debug,
        "History retention: the farm's purge already ran within the last {Interval}", EventName = "HistoryPurgeNotDue")]
    public static partial void HistoryPurgeNotDue(ILogger logger, TimeSpan interval);

    [LoggerMessage(ActivationEventIds.HistoryPurgedNothing, LogLevel.Debug,
        "History retention: no activation record from before {Cutoff:u}", EventName = "HistoryPurgedNothing")]
    public static partial void HistoryPurgedNothing(ILogger logger, DateTimeOffset cutoff);
}
