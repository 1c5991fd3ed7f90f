namespace KmsFarm.Client.Cli;

/// <summary>Process exit codes of kmsfarm-client (1 is System.CommandLine's code for a usage error).</summary>
public static class ExitCodes
{
    public const int Success = 0;
    public const int Usage = 1;

    /// <summary>The host answered with a failure HRESULT.</summary>
    public const int Refused = 2;

    /// <summary>The host broke the RPC or KMS protocol.</summary>
    public const int ProtocolError = 3;

    /// <summary>Connect failure, timeout or connection lost.</summary>
    public const int NetworkError = 4;

    /// <summary>A load run finished with errors.</summary>
    public const int LoadErrors = 5;

    /// <summary>--dns-domain found no KMS host (no answer from the DNS server, no such name, no SRV record).</summary>
    public const int DiscoveryFailed = 6;

    /// <summary><c>status</c>: the node requires its admin token and none (or a wrong one) was given.</summary>
    public const int Unauthorized = 7;
}
