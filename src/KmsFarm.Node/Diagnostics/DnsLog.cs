namespace KmsFarm.Node.Diagnostics;

/// <summary>Publishing the node's KMS SRV records in DNS. Success and failure carry the ids a Windows KMS host uses.</summary>
internal static partial class DnsLog
{
    [LoggerMessage(KmsEventId.DnsPublishingStarted, LogLevel.Information,
        "Publishing KMS SRV records in {Domains} on DNS server {Server} for port {Port}, {Signing}, TTL {Ttl}, refreshed every {RefreshInterval}",
        EventName = "DnsPublishingStarted")]
    public static partial void DnsPublishingStarted(
        this ILogger logger, string domains, string server, int port, string signing, TimeSpan ttl, TimeSpan refreshInterval);

    [LoggerMessage(KmsEventId.DnsPublished, LogLevel.Information,
        "KMS SRV record published in domain {Domain} on DNS server {Server} ({ResponseCode}): {Detail}", EventName = "DnsPublished")]
    public static partial void DnsPublished(this ILogger logger, string domain, string server, string responseCode, string detail);

    [LoggerMessage(KmsEventId.DnsPublishFailed, LogLevel.Warning,
        "Publishing the KMS SRV record in domain {Domain} on DNS server {Server} failed with {ResponseCode}: {Reason}. " +
        "The node keeps serving and tries again in {RetryIn}", EventName = "DnsPublishFailed")]
    public static partial void DnsPublishFailed(this ILogger logger, string domain, string server, string responseCode, string reason, TimeSpan retryIn);

    [LoggerMessage(KmsEventId.DnsWithdrawn, LogLevel.Information,
        "KMS SRV record removed from domain {Domain} on DNS server {Server}: {Detail}", EventName = "DnsWithdrawn")]
    public static partial void DnsWithdrawn(this ILogger logger, string domain, string server, string detail);

    [LoggerMessage(KmsEventId.DnsWithdrawFailed, LogLevel.Warning,
        "Removing the KMS SRV record from domain {Domain} on DNS server {Server} failed with {ResponseCode}: {Reason}",
        EventName = "DnsWithdrawFailed")]
    public static partial void DnsWithdrawFailed(this ILogger logger, string domain, string server, string responseCode, string reason);
}
