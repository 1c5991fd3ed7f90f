using System.Threading.Channels;
using KmsFarm.Protocol.Catalog;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Activation;

/// <summary>Group commit for one product group: callers enqueue attempts; one loop drains whatever is waiting (up to
/// <see cref="MaxBatchSize"/>) and hands it to one call of the sink, so concurrent requests for a group become one call.
/// Each caller gets its own outcome, or the sink's exception. Used at both ends of the farm: a node batches its
/// connections' requests into one grain call (sink: <see cref="IProductGroupLedgers"/>), and the product-group grain
/// batches the calls that arrived while a write was in flight into one store transaction (sink:
/// <see cref="ProductGroupWriter.ApplyAsync"/>).</summary>
public sealed class GroupCommitBatcher : IAsyncDisposable
{
    public const int MaxBatchSize = 256;

    private readonly ProductGroup _group;
    private readonly Func<IReadOnlyList<ActivationAttempt>, CancellationToken, ValueTask<IReadOnlyList<LedgerOutcome>>> _sink;
    private readonly ILogger _logger;
    private readonly Channel<Pending> _channel =
        Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
    private readonly CancellationTokenSource _abort = new();
    private readonly LogRateLimiter _failureLog = new();
    private readonly Task _loop;

    /// <param name="sink">Applies one batch and returns one outcome per attempt, in order. Called by one loop, never
    /// concurrently.</param>
    public GroupCommitBatcher(
        ProductGroup group, Func<IReadOnlyList<ActivationAttempt>, CancellationToken, ValueTask<IReadOnlyList<LedgerOutcome>>> sink, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(logger);
        _group = group;
        _sink = sink;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Queues <paramref name="attempt"/> and completes when its batch committed. Cancelling stops the wait, not
    /// the attempt (once queued it is applied).</summary>
    public Task<LedgerOutcome> EnqueueAsync(ActivationAttempt attempt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempt);
        var completion = new TaskCompletionSource<LedgerOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        Write(new Pending(attempt, null, completion, null));
        return cancellationToken.CanBeCanceled ? completion.Task.WaitAsync(cancellationToken) : completion.Task;
    }

    /// <summary>Queues <paramref name="attempts"/> as one unit (never split across two sink calls, so they commit or fail
    /// together, in order) and completes with their outcomes when their batch committed.</summary>
    public Task<LedgerOutcome[]> EnqueueAsync(IReadOnlyList<ActivationAttempt> attempts, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(attempts);
        if (attempts.Count == 0)
        {
            return Task.FromResult(Array.Empty<LedgerOutcome>());
        }

        var completion = new TaskCompletionSource<LedgerOutcome[]>(TaskCreationOptions.RunContinuationsAsynchronously);
        Write(new Pending(null, attempts, null, completion));
        return cancellationToken.CanBeCanceled ? completion.Task.WaitAsync(cancellationToken) : completion.Task;
    }

    /// <summary>Stops accepting attempts and waits until the queued ones are applied. If
    /// <paramref name="cancellationToken"/> fires first, the sink call in progress is cancelled and the rest fail.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _channel.Writer.TryComplete();
        try
        {
            await _loop.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await _abort.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        _abort.Dispose();
    }

    private void Write(Pending pending)
    {
        if (!_channel.Writer.TryWrite(pending))
        {
            throw new ObjectDisposedException(nameof(GroupCommitBatcher), $"The {_group} batcher is stopping.");
        }
    }

    private async Task RunAsync()
    {
        var reader = _channel.Reader;
        var batch = new List<Pending>();
        var attempts = new List<ActivationAttempt>(MaxBatchSize);
        Pending? carried = null;
        while (carried is not null || await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            // Whole units only, at least one per call however large; a unit that does not fit waits for the next call.
            while (carried is { } pending || reader.TryRead(out pending))
            {
                carried = null;
                if (attempts.Count > 0 && attempts.Count + pending.Count > MaxBatchSize)
                {
                    carried = pending;
                    break;
                }

                batch.Add(pending);
                if (pending.Single is { } single)
                {
                    attempts.Add(single);
                }
                else
                {
                    attempts.AddRange(pending.Many!);
                }
            }

            await ApplyAsync(batch, attempts).ConfigureAwait(false);
            batch.Clear();
            attempts.Clear();
        }
    }

    private async Task ApplyAsync(List<Pending> batch, List<ActivationAttempt> attempts)
    {
        try
        {
            _abort.Token.ThrowIfCancellationRequested();
            var outcomes = await _sink(attempts.ToArray(), _abort.Token).ConfigureAwait(false);
            if (outcomes.Count != attempts.Count)
            {
                throw new InvalidOperationException($"The ledger returned {outcomes.Count} outcomes for {attempts.Count} attempts.");
            }

            int next = 0;
            foreach (var pending in batch)
            {
                if (pending.SingleCompletion is { } single)
                {
                    single.TrySetResult(outcomes[next++]);
                }
                else
                {
                    var mine = new LedgerOutcome[pending.Count];
                    for (int i = 0; i < mine.Length; i++)
                    {
                        mine[i] = outcomes[next++];
                    }

                    pending.ManyCompletion!.TrySetResult(mine);
                }
            }

            ActivationLog.BatchApplied(_logger, attempts.Count, _group.ToString());
        }
#pragma warning disable CA1031 // Any failure goes to every waiting caller; the loop must survive it.
        catch (Exception e)
#pragma warning restore CA1031
        {
            // While a database is down every batch fails: one line per half minute, counting the rest.
            if (e is not LedgerVersionConflictException && _failureLog.TryAcquire(out long suppressed))
            {
                ActivationLog.BatchFailed(_logger, e, attempts.Count, _group.ToString(), suppressed);
            }

            foreach (var pending in batch)
            {
                if (pending.SingleCompletion is { } single)
                {
                    single.TrySetException(e);
                }
                else
                {
                    pending.ManyCompletion!.TrySetException(e);
                }
            }
        }
    }

    /// <summary>One queued unit: a single attempt (a node's request) or several that must stay together (a node's batch
    /// arriving at the grain).</summary>
    private readonly record struct Pending(
        ActivationAttempt? Single,
        IReadOnlyList<ActivationAttempt>? Many,
        TaskCompletionSource<LedgerOutcome>? SingleCompletion,
        TaskCompletionSource<LedgerOutcome[]>? ManyCompletion)
    {
        public int Count => Single is null ? Many!.Count : 1;
    }
}
