using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation;

/// <summary>Where the farm's product-group ledgers live, as the activation service sees them: in a farm, one Orleans grain
/// per group (KmsFarm.Grains); in a single process without Orleans, <see cref="LocalProductGroupLedgers"/>.</summary>
public interface IProductGroupLedgers
{
    /// <summary>Applies <paramref name="attempts"/> in order to <paramref name="group"/>'s ledger through its single writer and
    /// returns one outcome per attempt, in order, once the store has committed them. Throws when they could not be
    /// committed (nothing was then counted).</summary>
    ValueTask<IReadOnlyList<LedgerOutcome>> ApplyAsync(ProductGroup group, IReadOnlyList<ActivationAttempt> attempts, CancellationToken cancellationToken);
}
