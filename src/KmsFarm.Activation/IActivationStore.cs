using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation;

/// <summary>The persistence port of the activation domain. Implementations: the embedded SQLite store (single node) and
/// the PostgreSQL store (a farm). Every method that changes state returns only after its transaction committed.</summary>
public interface IActivationStore : IAsyncDisposable
{
    /// <summary>Creates or migrates the schema. Safe when several nodes start together.</summary>
    ValueTask InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Returns the farm identity, creating it with <paramref name="create"/> if none is stored yet
    /// (first caller wins; every later caller gets the stored one).</summary>
    ValueTask<FarmIdentity> GetOrCreateIdentityAsync(Func<FarmIdentity> create, CancellationToken cancellationToken);

    /// <summary>Applies <paramref name="attempts"/> in order to the ledger of <paramref name="group"/> as one serialized
    /// transaction (single writer per group across the farm), appends their history rows and updates the client inventory.
    /// Returns one outcome per attempt, in order, after commit.</summary>
    ValueTask<IReadOnlyList<LedgerOutcome>> ApplyAsync(
        ProductGroup group, IReadOnlyList<ActivationAttempt> attempts, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Appends the history row of a refused request (no ledger change).</summary>
    ValueTask AppendRefusalAsync(ActivationRecord record, CancellationToken cancellationToken);

    /// <summary>The current ledger of a group with entries older than the expiry dropped (read only).</summary>
    ValueTask<LedgerSnapshot> GetLedgerAsync(ProductGroup group, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The newest history rows, newest first.</summary>
    ValueTask<IReadOnlyList<ActivationRecord>> GetHistoryAsync(int limit, CancellationToken cancellationToken);

    /// <summary>True when the store answers (for /healthz/ready).</summary>
    ValueTask<bool> IsReadyAsync(CancellationToken cancellationToken);
}
