using System.Net;

namespace KmsFarm.Node.Diagnostics;

/// <summary>Listener and connection messages (1000 range). Per-connection chatter is Debug, behind an explicit
/// IsEnabled check by the caller where arguments cost something.</summary>
internal static partial class ConnectionLog
{
    private static readonly Func<ILogger, string, string?, IDisposable?> Scope =
        LoggerMessage.DefineScope<string, string?>("ConnectionId:{ConnectionId} RemoteEndPoint:{RemoteEndPoint}");

    public static IDisposable? BeginConnectionScope(this ILogger logger, string connectionId, EndPoint? remote) =>
        Scope(logger, connectionId, remote?.ToString());

    [LoggerMessage(KmsEventId.ListenerStarted, LogLevel.Information, "Serving KMS on {EndPoint}", EventName = "ListenerStarted")]
    public static partial void ListenerStarted(this ILogger logger, EndPoint endPoint);

    [LoggerMessage(KmsEventId.ConnectionAccepted, LogLevel.Debug, "Connection accepted (association group {AssociationGroup:X8})",
        EventName = "ConnectionAccepted")]
    public static partial void ConnectionAccepted(this ILogger logger, uint associationGroup);

    [LoggerMessage(KmsEventId.ConnectionClosed, LogLevel.Debug, "Connection closed after {Requests} request(s): {Reason}",
        EventName = "ConnectionClosed")]
    public static partial void ConnectionClosed(this ILogger logger, int requests, string reason);

    [LoggerMessage(KmsEventId.ConnectionRefusedByAccessList, LogLevel.Debug, "Connection from {RemoteAddress} refused by the access list",
        EventName = "ConnectionRefusedByAccessList")]
    public static partial void ConnectionRefusedByAccessList(this ILogger logger, IPAddress? remoteAddress);

    [LoggerMessage(KmsEventId.ConnectionRefusedOverCapacity, LogLevel.Debug,
        "Connection from {RemoteEndPoint} refused: {MaxConnections} connections already open", EventName = "ConnectionRefusedOverCapacity")]
    public static partial void ConnectionRefusedOverCapacity(this ILogger logger, EndPoint? remoteEndPoint, int maxConnections);

    [LoggerMessage(KmsEventId.ConnectionIdleTimeout, LogLevel.Debug, "No complete PDU within {IdleTimeout}; closing",
        EventName = "ConnectionIdleTimeout")]
    public static partial void ConnectionIdleTimeout(this ILogger logger, TimeSpan idleTimeout);

    [LoggerMessage(KmsEventId.ConnectionRefusedPerSourceLimit, LogLevel.Debug,
        "Connection from {RemoteEndPoint} refused: {MaxConnectionsPerSource} connections from its address already open",
        EventName = "ConnectionRefusedPerSourceLimit")]
    public static partial void ConnectionRefusedPerSourceLimit(this ILogger logger, EndPoint? remoteEndPoint, int maxConnectionsPerSource);

    /// <summary>The summary of one source's refusals over an interval (one line per source per interval).</summary>
    [LoggerMessage(KmsEventId.AdmissionRefusals, LogLevel.Warning,
        "Refused {Refusals} connection(s) or request(s) from {Source} in the last {IntervalSeconds} s: {Reasons}",
        EventName = "AdmissionRefusals")]
    public static partial void AdmissionRefusals(this ILogger logger, long refusals, IPAddress source, int intervalSeconds, string reasons);

    [LoggerMessage(KmsEventId.AdmissionRefusalsOtherSources, LogLevel.Warning,
        "Refused {Refusals} connection(s) or request(s) from {Sources} more source(s) in the last {IntervalSeconds} s: {Reasons}",
        EventName = "AdmissionRefusalsOtherSources")]
    public static partial void AdmissionRefusalsOtherSources(
        this ILogger logger, long refusals, int sources, int intervalSeconds, string reasons);

    [LoggerMessage(KmsEventId.AdmissionSettings, LogLevel.Information,
        "Admission: {MaxConnections} connections, {MaxConnectionsPerSource} per source address, bind within {HandshakeTimeout}, " +
        "idle timeout {IdleTimeout}, lifetime {ConnectionLifetime}, requests per source {RequestRate}", EventName = "AdmissionSettings")]
    public static partial void AdmissionSettings(
        this ILogger logger, int maxConnections, int maxConnectionsPerSource, TimeSpan handshakeTimeout, TimeSpan idleTimeout,
        TimeSpan connectionLifetime, string requestRate);
}
