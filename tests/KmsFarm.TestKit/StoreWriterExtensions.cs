using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;
using Microsoft.Extensions.Logging.Abstractions;

namespace KmsFarm.TestKit;

/// <summary>Store tests drive a group's ledger the way its single writer does: load, apply, commit with the loaded
/// version, through the real <see cref="ProductGroupWriter"/>.</summary>
public static class StoreWriterExtensions
{
    /// <summary>Loads <paramref name="group"/>'s cache, applies <paramref name="attempts"/> at <paramref name="now"/> and commits
    /// them, as a writer that held no copy would. When another writer committed in between (a version conflict), loads again
    /// and retries, as a fenced grain's next activation does; returns the committed outcomes.</summary>
    public static async Task<IReadOnlyList<LedgerOutcome>> ApplyAsync(
        this IActivationStore store, ProductGroup group, IReadOnlyList<ActivationAttempt> attempts, DateTimeOffset now,
        CancellationToken cancellationToken = default)
    {
        for (int attempt = 0; ; attempt++)
        {
            var writer = new ProductGroupWriter(group, store, new ManualTimeProvider(now), NullLogger.Instance);
            try
            {
                return await writer.ApplyAsync(attempts, cancellationToken).ConfigureAwait(false);
            }
            catch (LedgerVersionConflictException) when (attempt < 100)
            {
                // Another writer committed between this load and this commit: load its result and apply again.
            }
        }
    }
}
