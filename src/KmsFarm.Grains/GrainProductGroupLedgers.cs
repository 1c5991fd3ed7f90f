using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Grains;

/// <summary>The node's view of the farm's ledgers: each batch goes to the group's grain, wherever in the cluster it is
/// activated. A fenced batch (nothing of it was written) is sent once more; a batch refused by a grain that is handing its
/// group over (its node is stopping) is sent again after a short pause until the group is activated elsewhere (bounded by
/// <see cref="HandOverPatience"/>), and so is one Orleans refused before any grain ran it. A second fence, an unreachable grain or a store failure throws, and the node closes
/// the client's connection rather than invent a count.</summary>
public sealed class GrainProductGroupLedgers(IGrainFactory grainFactory) : IProductGroupLedgers
{
    private readonly IProductGroupGrain[] _grains = Enum.GetValues<ProductGroup>()
        .Select(g => grainFactory.GetGrain<IProductGroupGrain>(ProductGroupGrainKey.For(g))).ToArray();

    /// <summary>How long a batch keeps being sent again while its group is being handed over.</summary>
    public static readonly TimeSpan HandOverPatience = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan HandOverPause = TimeSpan.FromMilliseconds(20);

    public async ValueTask<IReadOnlyList<LedgerOutcome>> ApplyAsync(
        ProductGroup group, IReadOnlyList<ActivationAttempt> attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        var grain = (uint)group < (uint)_grains.Length ? _grains[(int)group] : throw new ArgumentOutOfRangeException(nameof(group), group, null);
        var batch = new ActivationBatch([.. attempts]);
        int fences = 0;
        long started = Environment.TickCount64;
        while (true)
        {
            ApplyResult result;
            try
            {
                result = await grain.ApplyAsync(batch).WaitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OrleansMessageRejectionException) when (Environment.TickCount64 - started <= (long)HandOverPatience.TotalMilliseconds)
            {
                // Refused before any grain ran it (e.g. forwarded too often while the group moves off a stopping silo):
                // nothing was written, so it is sent again. A lost answer (SiloUnavailableException) is not: the batch may
                // have been committed.
                await Task.Delay(HandOverPause, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (result.HandedOver)
            {
                if (Environment.TickCount64 - started > (long)HandOverPatience.TotalMilliseconds)
                {
                    throw new TimeoutException($"The {group} group was being handed over for longer than {HandOverPatience}; the batch was not committed.");
                }

                await Task.Delay(HandOverPause, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (!result.Fenced)
            {
                return result.Outcomes;
            }

            if (++fences == 2)
            {
                throw new LedgerVersionConflictException($"The {group} ledger was fenced twice in a row; the batch was not committed.");
            }
        }
    }
}
