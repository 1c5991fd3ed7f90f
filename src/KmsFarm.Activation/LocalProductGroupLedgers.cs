using KmsFarm.Protocol.Catalog;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Activation;

/// <summary>The product-group ledgers of one process without Orleans: one <see cref="ProductGroupWriter"/> per group, one
/// batch at a time per group. For tools, benchmarks and tests of the domain and the stores; a node uses the grains.</summary>
public sealed class LocalProductGroupLedgers : IProductGroupLedgers, IDisposable
{
    private readonly Dictionary<ProductGroup, (ProductGroupWriter Writer, SemaphoreSlim Gate)> _groups;

    public LocalProductGroupLedgers(IActivationStore store, TimeProvider timeProvider, ILogger logger)
    {
        _groups = Enum.GetValues<ProductGroup>().ToDictionary(g => g, g => (new ProductGroupWriter(g, store, timeProvider, logger), new SemaphoreSlim(1, 1)));
    }

    /// <summary>The writer of <paramref name="group"/> (its version and counts, for tests).</summary>
    public ProductGroupWriter Writer(ProductGroup group) => _groups[group].Writer;

    public async ValueTask<IReadOnlyList<LedgerOutcome>> ApplyAsync(
        ProductGroup group, IReadOnlyList<ActivationAttempt> attempts, CancellationToken cancellationToken)
    {
        var (writer, gate) = _groups.TryGetValue(group, out var slot)
            ? slot
            : throw new ArgumentOutOfRangeException(nameof(group), group, "Not a product group.");
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await writer.ApplyAsync(attempts, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            gate.Release();
        }
    }

    public void Dispose()
    {
        foreach (var (_, gate) in _groups.Values)
        {
            gate.Dispose();
        }
    }
}
