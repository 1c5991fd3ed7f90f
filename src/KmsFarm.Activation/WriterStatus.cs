namespace KmsFarm.Activation;

/// <summary>A product group's cache as its <see cref="ProductGroupWriter"/> last loaded or committed it.</summary>
/// <param name="Count">CMIDs in the cache (before the expiry the next request applies).</param>
/// <param name="Capacity">2 × the largest N_Policy seen.</param>
/// <param name="Version">The store version these figures belong to.</param>
public sealed record WriterStatus(int Count, int Capacity, long Version);
