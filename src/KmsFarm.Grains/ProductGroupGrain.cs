using System.Diagnostics;
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
/// <see cref="_handingOver"/> (set once by <see cref="HandOverAsync"/>, read before an enqueue in the same turn),
/// <see cref="_batcher"/> (enqueue, thread-safe) and read <see cref="_writer"/>'s published
/// <see cref="ProductGroupWriter.Status"/> for <see cref="GetStatusAsync"/> (its counters are 0 while a commit is in
/// flight). The writer itself is used by the batcher's loop alone, never by a grain turn after activation.
/// Placed on the silo of the first caller (PreferLocalPlacement): the node that first needs a group serves it without a
/// network hop, and where each group lives is predictable (a fresh farm's first client decides).
/// Kept alive while its silo runs (there are three such grains in a farm): the silo hosting a group reports its count,
/// threshold and capacity (<see cref="ProductGroupMetrics"/>), which an idle-collected grain would stop doing, and a farm
/// idle for a while answers its next client without reloading the cache. A fenced activation still deactivates.
/// </remarks>
[Reentrant]
[Orleans.Placement.PreferLocalPlacement]
[KeepAlive]
#pragma warning disable CA1001 // The batcher is stopped and disposed in OnDeactivateAsync, the end of an activation's life.
public sealed class ProductGroupGrain : Grain, IProductGroupGrain
{
    /// <summary>How often the hosting silo's "clients seen in 30 days" gauge is refreshed from the store.</summary>
    public static readonly TimeSpan ActiveClientsRefreshPeriod = TimeSpan.FromSeconds(15);

    private readonly IActivationStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger<ProductGroupGrain> _logger;
    private readonly LocalProductGroups? _localGroups;
    private readonly ProductGroupMetrics? _metrics;
    private ProductGroupWriter? _writer;
    private GroupCommitBatcher? _batcher;
    private bool _handingOver;
#pragma warning restore CA1001

    /// <param name="metrics">The silo's product-group instruments; a silo without them (some tests) reports nothing.</param>
    /// <param name="localGroups">This silo's list of activated groups, for a graceful hand-over; null where the silo does not
    /// register one (then the silo's shutdown deactivates the grain).</param>
    public ProductGroupGrain(
        IActivationStore store, TimeProvider timeProvider, ILogger<ProductGroupGrain> logger, ProductGroupMetrics? metrics = null,
        LocalProductGroups? localGroups = null)
    {
        _store = store;
        _timeProvider = timeProvider;
        _logger = logger;
        _localGroups = localGroups;
        _metrics = metrics;
    }

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var group = ProductGroupGrainKey.Parse(this.GetPrimaryKeyString());
        if (_localGroups?.IsClosed == true)
        {
            // Placed on a silo that is handing its groups over: send every caller elsewhere and leave.
            _handingOver = true;
            DeactivateOnIdle();
            return;
        }

        var writer = new ProductGroupWriter(group, _store, _timeProvider, _logger);
        await writer.LoadAsync(cancellationToken);
        _writer = writer;
        _batcher = new GroupCommitBatcher(group, ApplyAndPublishAsync, _logger);
        _localGroups?.Activated(group);
        GrainLog.Activated(_logger, group.ToString(), writer.Version, writer.Count, writer.Capacity);
        if (_metrics is { } metrics)
        {
            metrics.PublishLedger(this, group, writer.Count, writer.Capacity);
            this.RegisterGrainTimer(
                RefreshActiveClientsAsync, new GrainTimerCreationOptions(TimeSpan.Zero, ActiveClientsRefreshPeriod) { Interleave = true });
        }
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        if (_batcher is { } batcher)
        {
            // Everything queued is committed and answered before the activation goes; a new one loads what was written.
            await batcher.StopAsync(cancellationToken);
            await batcher.DisposeAsync();
        }

        if (_writer is { } writer)
        {
            _metrics?.Withdraw(this, writer.Group);
            _localGroups?.Deactivated(writer.Group);
        }

        GrainLog.Deactivated(_logger, _writer?.Group.ToString() ?? this.GetPrimaryKeyString(), reason.ReasonCode.ToString());
    }

    public async Task<ApplyResult> ApplyAsync(ActivationBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        if (_handingOver)
        {
            return ApplyResult.Moving;
        }

        var batcher = _batcher ?? throw new InvalidOperationException("The product-group grain is not activated.");
        long started = Stopwatch.GetTimestamp();
        string result = "error";
        try
        {
            var outcomes = await batcher.EnqueueAsync(batch.Attempts, CancellationToken.None);
            result = "committed";
            return new ApplyResult(outcomes, Fenced: false);
        }
        catch (LedgerVersionConflictException ex)
        {
            result = "fenced";
            // Another activation of this group committed since this one loaded: this copy must not answer anyone. The writer
            // reloads before its next batch; the activation goes once idle, so later calls find the directory's one.
            GrainLog.Fenced(_logger, ex.Group?.ToString() ?? this.GetPrimaryKeyString(), ex.ExpectedVersion);
            DeactivateOnIdle();
            return ApplyResult.FencedOff;
        }
        finally
        {
            if (_writer is { } writer)
            {
                _metrics?.ApplyCompleted(writer.Group, result, Stopwatch.GetElapsedTime(started).TotalSeconds);
            }
        }
    }

    public async Task HandOverAsync()
    {
        // Checked with the enqueue in ApplyAsync within one turn: a batch either joins the queue drained here or is told
        // to go elsewhere.
        _handingOver = true;
        if (_batcher is { } batcher)
        {
            await batcher.StopAsync(CancellationToken.None);
        }

        DeactivateOnIdle();
    }

    public Task<ProductGroupStatus> GetStatusAsync()
    {
        if (_writer is null && _handingOver)
        {
            throw new InvalidOperationException("The product group is moving off this stopping silo; ask again.");
        }

        var status = (_writer ?? throw new InvalidOperationException("The product-group grain is not activated.")).Status;
        return Task.FromResult(new ProductGroupStatus(status.Count, status.Capacity, status.Version));
    }

    /// <summary>The batcher's sink: commits a batch, then publishes what the cache holds now. Runs on the batcher's loop,
    /// the writer's only user, so reading its counters here cannot race a write.</summary>
    private async ValueTask<IReadOnlyList<LedgerOutcome>> ApplyAndPublishAsync(
        IReadOnlyList<ActivationAttempt> attempts, CancellationToken cancellationToken)
    {
        var writer = _writer!;
        var outcomes = await writer.ApplyAsync(attempts, cancellationToken);
        _metrics?.PublishLedger(this, writer.Group, writer.Count, writer.Capacity);
        return outcomes;
    }

    /// <summary>Counts the group's clients seen in the last 30 days (one indexed query every 15 s per group, on the silo
    /// hosting it). A failure keeps the last value; the store's error counter and readiness already tell of it.</summary>
    private async Task RefreshActiveClientsAsync(CancellationToken cancellationToken)
    {
        var group = _writer!.Group;
        try
        {
            var since = _timeProvider.GetUtcNow() - ProductGroupLedger.ExpiryPeriod;
            if (await _store.CountClientsSeenSinceAsync(group, since, cancellationToken) is int clients)
            {
                _metrics?.PublishActiveClients(this, group, clients);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            GrainLog.ActiveClientsRefreshFailed(_logger, ex, group.ToString());
        }
    }
}
