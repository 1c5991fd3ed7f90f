using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Grains;

/// <summary>The node's view of the farm's ledgers: each batch goes to the group's grain, wherever in the cluster it is
/// activated. A fenced batch (nothing of it was written) is sent once more; a second fence, an unreachable grain or a
/// store failure throws, and the node closes the client's connection rather than invent a count.</summary>
public sealed class GrainProductGroupLedgers(IGrainFactory grainFactory) : IProductGroupLedgers
{
    private readonly IProductGroupGrain[] _grains = Enum.GetValues<ProductGroup>()
        .Select(g => grainFactory.GetGrain<IProductGroupGrain>(ProductGroupGrainKey.For(g))).ToArray();

    public async ValueTask<IReadOnlyList<LedgerOutcome>> ApplyAsync(
        ProductGroup group, IReadOnlyList<ActivationAttempt> attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        var grain = (uint)group < (uint)_grains.Length ? _grains[(int)group] : throw new ArgumentOutOfRangeException(nameof(group), group, null);
        var batch = new ActivationBatch([.. attempts]);
        for (int attempt = 1; ; attempt++)
        {
            var result = await grain.ApplyAsync(batch).WaitAsync(cancellationToken).ConfigureAwait(false);
            if (!result.Fenced)
            {
                return result.Outcomes;
            }

            if (attempt == 2)
            {
                throw new LedgerVersionConflictException($"The {group} ledger was fenced twice in a row; the batch was not committed.");
            }
        }
    }
}
