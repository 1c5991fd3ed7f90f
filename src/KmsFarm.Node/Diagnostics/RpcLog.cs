using KmsFarm.Protocol.Kms;

namespace KmsFarm.Node.Diagnostics;

/// <summary>RPC and activation messages (2000/3000 ranges). A bad client is a Debug line and a counter, never a Warning.</summary>
internal static partial class RpcLog
{
    [LoggerMessage(KmsEventId.RpcProtocolError, LogLevel.Debug, "Protocol error, closing: {Reason}", EventName = "RpcProtocolError")]
    public static partial void RpcProtocolError(this ILogger logger, string reason);

    [LoggerMessage(KmsEventId.RpcRequestAnswered, LogLevel.Debug,
        "KMS {Version} request from CMID {ClientMachineId} answered with count {CurrentCount}", EventName = "RpcRequestAnswered")]
    public static partial void RpcRequestAnswered(this ILogger logger, KmsProtocolVersion version, Guid clientMachineId, uint currentCount);

    [LoggerMessage(KmsEventId.RpcRequestRefused, LogLevel.Debug, "KMS request refused with 0x{HResult:X8}", EventName = "RpcRequestRefused")]
    public static partial void RpcRequestRefused(this ILogger logger, uint hResult);

    [LoggerMessage(KmsEventId.RpcUnexpectedError, LogLevel.Error, "Unexpected error on a KMS connection; closing it", EventName = "RpcUnexpectedError")]
    public static partial void RpcUnexpectedError(this ILogger logger, Exception exception);

    /// <summary>The request could not be decided (the store, or the grain call that reaches it, failed): the connection is
    /// closed so the client retries; nothing was counted. Rate-limited by the caller during an outage.</summary>
    [LoggerMessage(KmsEventId.ActivationStoreFailed, LogLevel.Warning,
        "A KMS request could not be decided ({Reason}); closing the connection so the client retries. {Suppressed} more such failure(s) since the last line",
        EventName = "ActivationStoreFailed")]
    public static partial void ActivationStoreFailed(this ILogger logger, Exception exception, string reason, long suppressed);

    [LoggerMessage(KmsEventId.ClientClosedBeforeAnswer, LogLevel.Debug,
        "The client closed the connection before its KMS request was answered", EventName = "ClientClosedBeforeAnswer")]
    public static partial void ClientClosedBeforeAnswer(this ILogger logger);
}
