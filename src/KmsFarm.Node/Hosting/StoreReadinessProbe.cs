using KmsFarm.Activation;

namespace KmsFarm.Node.Hosting;

/// <summary>Asks the store whether it answers, for /healthz/ready, within <see cref="Budget"/> whatever the store does:
/// a frozen database (SIGSTOP, a network that drops packets) can leave a probe waiting far longer than its cancellation
/// asks, so the answer never waits for the probe beyond the budget. At most one probe is in flight: readiness requests
/// during an outage share it instead of piling up connections, and one that has been stuck for
/// <see cref="AbandonAfter"/> is left behind for a fresh one. Both deadlines run on <paramref name="timeProvider"/>.</summary>
internal sealed class StoreReadinessProbe(TimeProvider timeProvider)
{
    /// <summary>How long /healthz/ready waits for the store: the whole answer stays well under 2 s.</summary>
    public static readonly TimeSpan Budget = TimeSpan.FromSeconds(1.5);

    public static readonly TimeSpan AbandonAfter = TimeSpan.FromSeconds(30);

    private readonly Lock _lock = new();
    private Task<string?>? _inFlight;
    private long _startedAt;

    /// <summary>Null when the store answered that it is ready; otherwise why not.</summary>
    public async Task<string?> CheckAsync(IActivationStore store, CancellationToken cancellationToken)
    {
        Task<string?> probe;
        lock (_lock)
        {
            if (_inFlight is null || _inFlight.IsCompleted || timeProvider.GetElapsedTime(_startedAt) > AbandonAfter)
            {
                _startedAt = timeProvider.GetTimestamp();
                _inFlight = ProbeAsync(store, timeProvider);
            }

            probe = _inFlight;
        }

        try
        {
            return await probe.WaitAsync(Budget, timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return $"the store did not answer within {Budget.TotalSeconds:0.#} s (database frozen, overloaded or unreachable)";
        }
    }

    private static async Task<string?> ProbeAsync(IActivationStore store, TimeProvider timeProvider)
    {
        using var timeout = new CancellationTokenSource(AbandonAfter, timeProvider);
        try
        {
            return await store.IsReadyAsync(timeout.Token).ConfigureAwait(false) ? null : "the store does not answer (see the node's log)";
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            return "store error: " + ex.GetType().Name;
        }
    }
}
