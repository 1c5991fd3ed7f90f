using KmsFarm.Activation;
using Microsoft.Extensions.Logging;
using Orleans.Concurrency;

namespace KmsFarm.Grains;

/// <summary>The single writer of one product group's CMID cache. On activation it loads the cache from the store; each
/// call's attempts are queued to a <see cref="GroupCommitBatcher"/> whose loop applies everything that arrived while the
/// previous write was in flight as one <see cref="ProductGroupWriter"/> batch (one store transaction, fenced by the
/// version loaded), and each call is answered once its attempts are committed.</summary>
/// <remarks>
/// Reentrant so that calls from every node can wait for the same write: while a write is in flight, grain turns touch only
/// <see cref="_batcher"/> (enqueue, thread-safe) and read <see cref="_writer"/>'s published
/// <see cref="ProductGroupWriter.Status"/> for <see cref="GetStatusAsync"/> (its counters are 0 while a commit is in
/// flight). The writer itself is used by the batcher's loop alone, never by a grain turn after activation.
/// Placed on the silo of the first caller (PreferLocalPlacement): the node that first needs a group serves it without a
/// network hop, and where each group lives is predictable (a fresh farm's first client decides).
/// </remarks>
[Reentrant]
[Orleans.Placement.PreferLocalPlacement]
#pragma warning disable CA1001 // The batcher is stopped and disposed in OnDeactivateAsync, the end of an activation's life.
public sealed class ProductGroupGrain : Grain, IProductGroupGrain
{
    private readonly IActivationStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ProductGroupGrain> _logger;
    private ProductGroupWriter? _writer;
    private GroupCommitBatcher? _batcher;
#pragma warning restore CA1001

    public ProductGroupGrain(IActivationStore store, TimeProvider timeProvider, ILogger<ProductGroupGrain> logger)
    {
        _store = store;
        _timeProvider = timeProvider;
        _logger = logger;
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var group = ProductGroupGrainKey.Parse(this.GetPrimaryKeyString());
        var writer = new ProductGroupWriter(group, _store, _timeProvider, _logger);
        await writer.LoadAsync(cancellationToken);
        _writer = writer;
        _batcher = new GroupCommitBatcher(group, writer.ApplyAsync, _logger);
        GrainLog.Activated(_logger, group.ToString(), writer.Version, writer.Count, writer.Capacity);
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_batcher is { } batcher)
        {
            // Everything queued is committed and answered before the activation goes; a new one loads what was written.
            await batcher.StopAsync(cancellationToken);
            await batcher.DisposeAsync();
        }

        GrainLog.Deactivated(_logger, _writer?.Group.ToString() ?? this.GetPrimaryKeyString(), reason.ReasonCode.ToString());
    }

    public async Task<ApplyResult> ApplyAsync(ActivationBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var batcher = _batcher ?? throw new InvalidOperationException("The product-group grain is not activated.");
        try
        {
            return new ApplyResult(await batcher.EnqueueAsync(batch.Attempts, CancellationToken.None), Fenced: false);
        }
        catch (LedgerVersionConflictException ex)
        {
            // Another activation of this group committed since this one loaded: this copy must not answer anyone. The writer
            // reloads before its next batch; the activation goes once idle, so later calls find the directory's one.
            GrainLog.Fenced(_logger, ex.Group?.ToString() ?? this.GetPrimaryKeyString(), ex.ExpectedVersion);
            DeactivateOnIdle();
            return ApplyResult.FencedOff;
        }
    }

    public Task<ProductGroupStatus> GetStatusAsync()
    {
        var status = (_writer ?? throw new InvalidOperationException("The product-group grain is not activated.")).Status;
        return Task.FromResult(new ProductGroupStatus(status.Count, status.Capacity, status.Version));
    }
}
