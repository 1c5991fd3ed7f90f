using Microsoft.Extensions.Logging;

namespace KmsFarm.Grains;

/// <summary>Log messages of the product-group grains, EventIds 3100–3199 (the activation domain's range, STYLE §2.5).
/// Method names are EventNames: treat them as a contract.</summary>
internal static partial class GrainLog
{
    [LoggerMessage(3100, LogLevel.Information, "Product group {Group} activated on this silo at version {Version}: {Count} CMIDs, capacity {Capacity}")]
    public static partial void Activated(ILogger logger, string group, long version, int count, int capacity);

    [LoggerMessage(3101, LogLevel.Information, "Product group {Group} deactivated on this silo ({Reason})")]
    public static partial void Deactivated(ILogger logger, string group, string reason);

    [LoggerMessage(3102, LogLevel.Warning, "Product group {Group} was written by another activation since version {Version}: this one answers nobody, reloads and deactivates")]
    public static partial void Fenced(ILogger logger, string group, long version);

    [LoggerMessage(3103, LogLevel.Debug,
        "Product group {Group}: counting the clients seen in 30 days failed; the gauge keeps its last value")]
    public static partial void ActiveClientsRefreshFailed(ILogger logger, Exception exception, string group);
}
