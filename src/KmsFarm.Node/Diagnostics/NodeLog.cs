
namespace KmsFarm.Node.Diagnostics;

/// <summary>Start-up, storage and configuration messages (4000/5000 ranges).</summary>
internal static partial class NodeLog
{
    [LoggerMessage(KmsEventId.StoreOpened, LogLevel.Information, "Store {Store} initialised", EventName = "StoreOpened")]
    public static partial void StoreOpened(this ILogger logger, string store);

    [LoggerMessage(KmsEventId.StoreDisposeFailed, LogLevel.Warning, "Disposing the store failed", EventName = "StoreDisposeFailed")]
    public static partial void StoreDisposeFailed(this ILogger logger, Exception exception);

    [LoggerMessage(KmsEventId.EffectiveOptions, LogLevel.Information,
        "Node {NodeName}: KMS {KmsEndpoints}, HTTP {HttpEndpoint}, store {Store} (history kept {HistoryRetention}), max connections {MaxConnections}, " +
        "idle timeout {IdleTimeout}, allow {Allow}, deny {Deny}, catalog {Catalog}", EventName = "EffectiveOptions")]
    public static partial void EffectiveOptions(
        this ILogger logger, string nodeName, string kmsEndpoints, string httpEndpoint, string store, string historyRetention, int maxConnections,
        TimeSpan idleTimeout, string allow, string deny, string catalog);

    [LoggerMessage(KmsEventId.IdentityLoaded, LogLevel.Information,
        "Farm identity loaded: host build {HostBuild} (NDR64 {Ndr64}), LCID {Lcid}, {CsvlkCount} CSVLK(s), created {Created}", EventName = "IdentityLoaded")]
    public static partial void IdentityLoaded(this ILogger logger, int hostBuild, bool ndr64, int lcid, int csvlkCount, DateTimeOffset created);

    [LoggerMessage(KmsEventId.SiloSettings, LogLevel.Information,
        "Silo {SiloName}: cluster {ClusterId} ({Clustering}), silo endpoint {SiloEndpoint}, gateway {Gateway}, store durability {Durability}",
        EventName = "SiloSettings")]
    public static partial void SiloSettings(this ILogger logger, string siloName, string clusterId, string clustering, string siloEndpoint, string gateway, string durability);

    [LoggerMessage(KmsEventId.StoreUnreachable, LogLevel.Warning,
        "The database {Store} is not reachable ({Reason}); retry {Attempt} in {DelaySeconds} s. The node waits for it and is not ready until then",
        EventName = "StoreUnreachable")]
    public static partial void StoreUnreachable(this ILogger logger, string store, string reason, int attempt, int delaySeconds);

    [LoggerMessage(KmsEventId.StoreReachedAfterWaiting, LogLevel.Information,
        "The database {Store} answered at attempt {Attempt}, after {Waited} of waiting", EventName = "StoreReachedAfterWaiting")]
    public static partial void StoreReachedAfterWaiting(this ILogger logger, string store, int attempt, TimeSpan waited);

    [LoggerMessage(KmsEventId.ActivationPolicy, LogLevel.Information,
        "Activation policy: activation interval {ActivationInterval} min, renewal interval {RenewalInterval} min, minimum reported count {MinimumCount} " +
        "(a lab floor, never above a group's cache capacity), CSVLKs served {ServedCsvlks}", EventName = "ActivationPolicy")]
    public static partial void ActivationPolicy(this ILogger logger, int activationInterval, int renewalInterval, string minimumCount, string servedCsvlks);

    [LoggerMessage(KmsEventId.NewerCsvlksOnOlderBuilds, LogLevel.Information,
        "New farm identity on host build {HostBuild}: {Count} CSVLK(s) cannot be installed on it, so their ePIDs claim the oldest build " +
        "each can be installed on: {CsvlkBuilds}", EventName = "NewerCsvlksOnOlderBuilds")]
    public static partial void NewerCsvlksOnOlderBuilds(this ILogger logger, int hostBuild, int count, string csvlkBuilds);

    [LoggerMessage(KmsEventId.HistoryRetentionGrainUnreachable, LogLevel.Debug,
        "The history retention grain could not be reached; trying again in {Every}", EventName = "HistoryRetentionGrainUnreachable")]
    public static partial void HistoryRetentionGrainUnreachable(this ILogger logger, Exception exception, TimeSpan every);
}
