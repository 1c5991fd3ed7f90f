using Orleans.Configuration;

namespace KmsFarm.TestSilo;

/// <summary>The failure-detection settings recommended for the farm; docs/ORLEANS-MEMBERSHIP.md explains and measures
/// them. Only the probe timeout differs from Orleans 10.4.2's defaults: with two silos a node killed without notice is
/// declared dead in 2–3 s (at most 3 × ProbeTimeout = 6 s right after it joined), against 5–15 s with the defaults.</summary>
public static class FailureDetection
{
    /// <summary>Initial probe timeout, and the period between probes of one silo. Orleans adapts both per monitored silo
    /// from measured round trips, between half this (the floor on a healthy network) and four times this (under local
    /// strain). Default 5 s.</summary>
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(2);

    public static void Apply(ClusterMembershipOptions options)
    {
        options.ProbeTimeout = ProbeTimeout;
    }
}
