namespace KmsFarm.Node.Diagnostics;

/// <summary>Event ids of the node's log messages, in ranges per area (1000 listener/connection, 2000 RPC,
/// 3000 activation, 4000 storage, 5000 configuration; DNS publishing results use the Windows KMS ids 12293/12294). Ids and
/// names are a contract for log queries: never reuse one.</summary>
public static class KmsEventId
{
    public const int ListenerStarted = 1000;
    public const int ConnectionAccepted = 1001;
    public const int ConnectionClosed = 1002;
    public const int ConnectionRefusedByAccessList = 1003;
    public const int ConnectionRefusedOverCapacity = 1004;
    public const int ConnectionIdleTimeout = 1005;
    public const int ConnectionAborted = 1006;
    public const int ClientClosedBeforeAnswer = 1007;

    // Admission control (1010-1019).
    public const int ConnectionRefusedPerSourceLimit = 1010;
    public const int AdmissionRefusals = 1011;
    public const int AdmissionRefusalsOtherSources = 1012;
    public const int AdmissionSettings = 1013;

    public const int RpcProtocolError = 2000;
    public const int RpcRequestAnswered = 2001;
    public const int RpcRequestRefused = 2002;
    public const int RpcUnexpectedError = 2003;

    public const int ActivationStoreFailed = 3000;

    public const int EffectiveOptions = 5000;
    public const int IdentityLoaded = 5001;
    public const int ConfigurationInvalid = 5002;

    // The store implementations log in the 4000 range themselves; the host's view of the store sits with start-up.
    public const int StoreOpened = 5003;
    public const int StoreDisposeFailed = 5004;

    // 5005-5008 belonged to the retired node registry (membership comes from Orleans now): never reuse them.

    // Publishing the node in DNS (_vlmcs._tcp SRV records by dynamic update).
    public const int DnsPublishingStarted = 5009;
    public const int DnsWithdrawn = 5010;
    public const int DnsWithdrawFailed = 5011;

    public const int SiloSettings = 5012;

    // Start-up waiting for the database (5020-5029).
    public const int StoreUnreachable = 5020;
    public const int StoreReachedAfterWaiting = 5021;
    public const int ActivationPolicy = 5022;
    public const int NewerCsvlksOnOlderBuilds = 5023;
    public const int HistoryRetentionGrainUnreachable = 5024;

    // The ids a Windows KMS host logs for the same outcomes, kept so queries written for Windows hosts find ours:
    // 12293 publishing the SRV record failed, 12294 it was published.
    public const int DnsPublishFailed = 12293;
    public const int DnsPublished = 12294;
}
