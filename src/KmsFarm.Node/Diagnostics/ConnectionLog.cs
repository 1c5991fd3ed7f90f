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
}
