using Orleans.Configuration;

namespace KmsFarm.Grains.Tests;

/// <summary>The failure detection and call timeouts of a real node's silo, copied from
/// <c>src/KmsFarm.Node/Hosting/SiloHostingExtensions.cs</c> (<c>AddKmsFarmSilo</c>, internal there). Change them here
/// when the node's change, so the failover tests measure what a farm does.</summary>
internal static class NodeSiloSettings
{
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    public const int NumMissedProbesLimit = 2;

    public const int NumVotesForDeathDeclaration = 1;

    public static readonly TimeSpan IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan TableRefreshTimeout = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan SystemResponseTimeout = TimeSpan.FromSeconds(10);

    public static void Apply(ClusterMembershipOptions options)
    {
        options.ProbeTimeout = ProbeTimeout;
        options.NumMissedProbesLimit = NumMissedProbesLimit;
        options.NumVotesForDeathDeclaration = NumVotesForDeathDeclaration;
        options.IAmAliveTablePublishTimeout = IAmAliveTablePublishTimeout;
        options.TableRefreshTimeout = TableRefreshTimeout;
    }

    public static void Apply(SiloMessagingOptions options)
    {
        options.ResponseTimeout = ResponseTimeout;
        options.SystemResponseTimeout = SystemResponseTimeout;
    }
}
