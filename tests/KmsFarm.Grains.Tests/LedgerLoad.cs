using System.Collections.Concurrent;
using System.Diagnostics;
using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Grains.Tests;

/// <summary>Concurrent callers of one group's ledger, the way nodes' front ends call it, through the nodes they are given in
/// turn; every call is recorded (its attempts, when it started and ended, the outcomes or the exception). A failed call is
/// not retried with the same attempts. Closed loop (<see cref="RunAsync"/>): each worker waits for its call before the
/// next. Open loop (<see cref="RunOpenAsync"/>): calls start at a steady rate whether earlier ones were answered or not,
/// as new clients keep arriving while a group is away.</summary>
internal sealed class LedgerLoad
{
    private static readonly TimeSpan PauseAfterFailure = TimeSpan.FromMilliseconds(20);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<Call> _calls = new();
    private int _answeredAttempts;

    /// <param name="Via">The node (silo) the call was made through.</param>
    /// <param name="Outcomes">Null when the call threw.</param>
    public sealed record Call(int Worker, int Via, ActivationAttempt[] Attempts, TimeSpan Started, TimeSpan Ended,
        IReadOnlyList<LedgerOutcome>? Outcomes, Exception? Error)
    {
        public bool Succeeded => Outcomes is not null;
    }

    /// <summary>Time since the load was created.</summary>
    public TimeSpan Now => _clock.Elapsed;

    public IReadOnlyList<Call> Calls => _calls.ToArray();

    /// <summary>Attempts answered so far.</summary>
    public int AnsweredAttempts => Volatile.Read(ref _answeredAttempts);

    /// <summary>Runs <paramref name="workers"/> workers until <paramref name="nextBatch"/> returns null or
    /// <paramref name="stop"/> is cancelled (calls in flight are waited for and recorded). Worker w sends its k-th batch
    /// through <c>nodes[(w + k) % nodes.Count]</c> once its previous call returned.</summary>
    public Task RunAsync(
        IReadOnlyList<IProductGroupLedgers> nodes, int workers, ProductGroup group, Func<Random, ActivationAttempt[]?> nextBatch,
        CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(() => WorkAsync(nodes, w, group, nextBatch, stop), CancellationToken.None)));

    /// <summary>Starts a call every <paramref name="interval"/> on each of <paramref name="streams"/> streams, without waiting
    /// for earlier ones, until <paramref name="stop"/> is cancelled; then waits for every call started.</summary>
    public Task RunOpenAsync(
        IReadOnlyList<IProductGroupLedgers> nodes, int streams, ProductGroup group, Func<Random, ActivationAttempt[]> nextBatch,
        TimeSpan interval, CancellationToken stop) =>
        Task.WhenAll(Enumerable.Range(0, streams).Select(w => Task.Run(() => StreamAsync(nodes, w, group, nextBatch, interval, stop), CancellationToken.None)));

    /// <summary>Waits until at least <paramref name="attempts"/> attempts were answered, at most <paramref name="patience"/>.</summary>
    public async Task WaitForAnswersAsync(int attempts, TimeSpan patience, Task running, SiloLog? log = null)
    {
        var deadline = Now + patience;
        while (AnsweredAttempts < attempts)
        {
            Assert.True(Now < deadline,
                $"only {AnsweredAttempts} of {attempts} attempts answered within {patience}: {Describe()}\nsilo log:\n{log?.Tail(40)}");
            Assert.False(running.IsFaulted, running.Exception?.ToString());
            await Task.Delay(10, CancellationToken.None);
        }
    }

    /// <summary>Successful attempts as (CMID, count told).</summary>
    public IEnumerable<(Guid Cmid, int Count)> Told() =>
        Calls.Where(c => c.Succeeded).SelectMany(c => c.Attempts.Zip(c.Outcomes!, (a, o) => (a.ClientMachineId, o.CurrentCount)));

    /// <summary>How long after <paramref name="from"/> the first call started at or after it was answered.</summary>
    public TimeSpan? FirstAnswerAfter(TimeSpan from) =>
        Calls.Where(c => c.Succeeded && c.Started >= from).Select(c => (TimeSpan?)(c.Ended - from)).Min();

    /// <summary>The longest time, from <paramref name="from"/> on, during which no call was answered.</summary>
    public TimeSpan LongestSilenceAfter(TimeSpan from)
    {
        var answers = Calls.Where(c => c.Succeeded && c.Ended >= from).Select(c => c.Ended).Order().ToList();
        var longest = TimeSpan.Zero;
        var previous = from;
        foreach (var at in answers)
        {
            longest = at - previous > longest ? at - previous : longest;
            previous = at;
        }

        return longest;
    }

    public string Describe()
    {
        var calls = Calls;
        var failures = calls.Where(c => !c.Succeeded).ToArray();
        return $"{calls.Count} calls, {failures.Length} failed" +
            string.Concat(failures.Select(f => f.Error!.GetType().Name + ": " + f.Error.Message).Distinct().Take(5).Select(m => "\n  " + m));
    }

    private async Task WorkAsync(
        IReadOnlyList<IProductGroupLedgers> nodes, int worker, ProductGroup group, Func<Random, ActivationAttempt[]?> nextBatch,
        CancellationToken stop)
    {
        var random = new Random(worker);
        for (int k = 0; !stop.IsCancellationRequested; k++)
        {
            var attempts = nextBatch(random);
            if (attempts is null)
            {
                return;
            }

            if (!await CallAsync(nodes, worker, (worker + k) % nodes.Count, group, attempts).ConfigureAwait(false))
            {
                await Task.Delay(PauseAfterFailure, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private async Task StreamAsync(
        IReadOnlyList<IProductGroupLedgers> nodes, int stream, ProductGroup group, Func<Random, ActivationAttempt[]> nextBatch,
        TimeSpan interval, CancellationToken stop)
    {
        var random = new Random(stream);
        var calls = new List<Task>();
        var next = Now;
        for (int k = 0; !stop.IsCancellationRequested; k++)
        {
            calls.Add(CallAsync(nodes, stream, (stream + k) % nodes.Count, group, nextBatch(random)));
            next += interval;
            var wait = next - Now;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, CancellationToken.None).ConfigureAwait(false);
            }
        }

        await Task.WhenAll(calls).ConfigureAwait(false);
    }

    /// <summary>Makes one call and records it; false when it failed.</summary>
    private async Task<bool> CallAsync(IReadOnlyList<IProductGroupLedgers> nodes, int worker, int via, ProductGroup group, ActivationAttempt[] attempts)
    {
        var started = Now;
        try
        {
            // No cancellation: an answer that comes is recorded, whatever the test is doing meanwhile.
            var outcomes = await nodes[via].ApplyAsync(group, attempts, CancellationToken.None).ConfigureAwait(false);
            _calls.Enqueue(new Call(worker, via, attempts, started, Now, outcomes, null));
            Interlocked.Add(ref _answeredAttempts, attempts.Length);
            return true;
        }
#pragma warning disable CA1031 // Every failure is recorded; the test judges them.
        catch (Exception e)
#pragma warning restore CA1031
        {
            _calls.Enqueue(new Call(worker, via, attempts, started, Now, null, e));
            return false;
        }
    }
}
