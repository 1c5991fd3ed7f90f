namespace KmsFarm.Protocol.Catalog;

/// <summary>A Windows build a KMS host may claim in its ePID.</summary>
/// <param name="PlatformId">The ePID platform id (PPPPP) for this build.</param>
/// <param name="ReleaseDate">The build's release; the earliest date an ePID claiming it may carry. Null when unknown
/// (such a build cannot be used for an ePID).</param>
/// <param name="UsesNdr64">A genuine host of this build accepts NDR64 in the RPC bind; the RPC layer must match.</param>
/// <param name="UseForEpid">The build is a known KMS host (server) build: the builds <c>--host-build</c> accepts.</param>
/// <param name="FirstCsvlks">For a KMS host build, the CSVLK ids whose oldest possible host is this build (they can be
/// installed on it and on every later KMS host build, never on an earlier one).</param>
public sealed record HostBuildInfo(
    int Build, int PlatformId, DateOnly? ReleaseDate, bool UsesNdr64, bool UseForEpid, string Name, IReadOnlyList<string>? FirstCsvlks = null)
{
    public IReadOnlyList<string> FirstCsvlks { get; init; } = FirstCsvlks ?? [];
}
