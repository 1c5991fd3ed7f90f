using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Client.Load;

/// <summary>The result of a load run. Every request that was started ends exactly once: as an activation, a refusal or a
/// failure (<see cref="Requests"/> = <see cref="Activations"/> + <see cref="Refused"/> + <see cref="FailedRequests"/>).
/// <see cref="Errors"/> counts error events by kind, including connect failures and timeouts that were followed by a
/// fail-over to the next host (<see cref="Failovers"/>) and refusals. <see cref="TargetRate"/> is the paced rate asked
/// for (null when unpaced). <see cref="MachinesFailedOver"/> counts the machines that were answered at least once by a host
/// other than their first choice (the host they kept, or before any answer the first of their own order): they moved
/// because that host did not answer, or was backing off after it did not answer another machine.</summary>
public sealed record LoadReport(
    TimeSpan Elapsed,
    int Clients,
    int Concurrency,
    LoadMix Mix,
    long Seed,
    long Requests,
    long Activations,
    long FirstActivations,
    long Renewals,
    long Refused,
    long FailedRequests,
    long Failovers,
    long ActivationsBelowNPolicy,
    long Ndr32Requests,
    long Ndr64Requests,
    long MachinesActivated,
    double ActivationsPerSecond,
    LatencySummary Latency,
    IReadOnlyDictionary<LoadErrorKind, long> Errors,
    IReadOnlyDictionary<string, long> RefusedByHResult,
    IReadOnlyList<HostLoadReport> Hosts,
    double? TargetRate = null,
    long MachinesFailedOver = 0)
{
    public long TotalErrors => Errors.Values.Sum();
}

/// <summary>What one host did during the run and the counts it reports afterwards.</summary>
public sealed record HostLoadReport(string Host, long Activations, long Errors, IReadOnlyList<GroupCountReport> Counts);

/// <summary>The count a host returned for a product group, queried with an already counted CMID.</summary>
public sealed record GroupCountReport(ProductGroup Group, string Product, uint? Count, string? Error);
