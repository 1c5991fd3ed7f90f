using Orleans.Configuration;

namespace KmsFarm.Node.Hosting;

/// <summary>The farm's failure-detection settings and grain-call timeout; docs/ORLEANS-MEMBERSHIP.md explains and measures them. Only the probe
/// timeout differs from Orleans 10.4.2's defaults: with two silos a node killed without notice is declared dead in 2–3 s
/// (at most 3 × ProbeTimeout = 6 s right after it joined), against 5–15 s with the defaults, and a product group it hosted
/// answers nothing until then.</summary>
public static class SiloFailureDetection
{
    /// <summary>Initial probe timeout, and the period between probes of one silo. Orleans adapts both per monitored silo
    /// from measured round trips, between half this (the floor on a healthy network) and four times this (under local
    /// strain). Orleans' default is 5 s.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long a grain call waits for its answer. Orleans' default is 30 s; a call that cannot be answered (its
    /// grain's silo died and is not yet declared dead) fails after 10 s, and the node closes the client's connection (the
    /// client retries, possibly on another node) instead of holding it.</summary>
    public static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(10);

    public static void Apply(ClusterMembershipOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ProbeTimeout = ProbeTimeout;
    }

    public static void Apply(SiloMessagingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.ResponseTimeout = ResponseTimeout;
        options.SystemResponseTimeout = ResponseTimeout;
    }
}
