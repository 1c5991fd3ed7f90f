using System.Threading.Channels;
using KmsFarm.Protocol.Catalog;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Activation;

/// <summary>Group commit for one product group: callers enqueue attempts; one loop drains whatever is waiting (up to
/// <see cref="MaxBatchSize"/>) and applies it with a single <see cref="IActivationStore.ApplyAsync"/> call, so concurrent
/// requests for a group become one transaction. Each caller gets its own outcome, or the store's exception.</summary>
internal sealed class GroupCommitBatcher : IAsyncDisposable
{
    public const int MaxBatchSize = 256;

    private readonly ProductGroup _group;
    private readonly IActivationStore _store;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly Channel<Pending> _channel =
        Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = false });
    private readonly CancellationTokenSource _abort = new();
    private readonly Task _loop;

    public GroupCommitBatcher(ProductGroup group, IActivationStore store, TimeProvider timeProvider, ILogger logger)
    {
        _group = group;
        _store = store;
        _timeProvider = timeProvider;
        _logger = logger;
        _loop = Task.Run(RunAsync);
    }

    /// <summary>Queues <paramref name="attempt"/> and completes when its batch committed. Cancelling stops the wait, not
    /// the attempt (once queued it is applied).</summary>
    public Task<LedgerOutcome> EnqueueAsync(ActivationAttempt attempt, CancellationToken cancellationToken)
    {
        var completion = new TaskCompletionSource<LedgerOutcome>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_channel.Writer.TryWrite(new Pending(attempt, completion)))
        {
            throw new ObjectDisposedException(nameof(ActivationService), "The activation service is stopping.");
        }

        return cancellationToken.CanBeCanceled ? completion.Task.WaitAsync(cancellationToken) : completion.Task;
    }

    /// <summary>Stops accepting attempts and waits until the queued ones are applied. If
    /// <paramref name="cancellationToken"/> fires first, the store call in progress is cancelled and the rest fail.</summary>
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

    private async Task RunAsync()
    {
        var reader = _channel.Reader;
        var batch = new List<Pending>(MaxBatchSize);
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            while (batch.Count < MaxBatchSize && reader.TryRead(out var pending))
            {
                batch.Add(pending);
            }

            await ApplyAsync(batch).ConfigureAwait(false);
            batch.Clear();
        }
    }

    private async Task ApplyAsync(List<Pending> batch)
    {
        try
        {
            _abort.Token.ThrowIfCancellationRequested();
            var attempts = new ActivationAttempt[batch.Count];
            for (int i = 0; i < attempts.Length; i++)
            {
                attempts[i] = batch[i].Attempt;
            }

            var outcomes = await _store.ApplyAsync(_group, attempts, _timeProvider.GetUtcNow(), _abort.Token).ConfigureAwait(false);
            if (outcomes.Count != batch.Count)
            {
                throw new InvalidOperationException($"The store returned {outcomes.Count} outcomes for {batch.Count} attempts.");
            }

            for (int i = 0; i < batch.Count; i++)
            {
                batch[i].Completion.TrySetResult(outcomes[i]);
            }

            ActivationLog.BatchApplied(_logger, batch.Count, _group.ToString());
        }
#pragma warning disable CA1031 // Any store failure goes to every waiting caller; the loop must survive it.
        catch (Exception e)
#pragma warning restore CA1031
        {
            ActivationLog.BatchFailed(_logger, e, batch.Count, _group.ToString());
            foreach (var pending in batch)
            {
                pending.Completion.TrySetException(e);
            }
        }
    }

    private readonly record struct Pending(ActivationAttempt Attempt, TaskCompletionSource<LedgerOutcome> Completion);
}
