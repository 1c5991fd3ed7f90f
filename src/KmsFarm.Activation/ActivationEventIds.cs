namespace KmsFarm.Activation;

/// <summary>Event ids of the activation domain (the 3000 range, STYLE §2.5). Names and numbers are a contract for log
/// queries: add, never renumber.</summary>
public static class ActivationEventIds
{
    public const int Activated = 3000;
    public const int Refused = 3001;
    public const int UnknownProductActivated = 3002;
    public const int BatchFailed = 3003;
    public const int BatchApplied = 3004;
    public const int Stopping = 3005;
    public const int CsvlkWithoutIdentity = 3006;
    public const int LedgerLoaded = 3007;
    public const int HistoryPurged = 3008;
    public const int HistoryPurgeNotDue = 3009;
    public const int HistoryPurgedNothing = 3010;

    /// <summary>"An activation request has been processed": the id a Windows KMS host logs in its Key Management Service
    /// event log for every request it answers, kept so queries written for Windows hosts find ours.</summary>
    public const int RequestProcessed = 12290;
}
