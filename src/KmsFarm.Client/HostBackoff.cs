using System.Collections.Concurrent;

namespace KmsFarm.Client;

/// <summary>Which KMS hosts a client tries, in what order, after some did not answer: a host that failed (connection
/// refused or timed out, or no reply in time: dead or frozen) is tried again only once its backoff has passed (1 s,
/// doubling with each further failure up to 60 s), by one caller at a time; until then it goes to the end of the order,
/// tried only when no other host answers. A host that answers is healthy again at once. Thread-safe, shared by every
/// machine of a load run; <c>activate</c> keeps it in its host cache file between runs.</summary>
/// <remarks>Together with the kept host (the one that answered last, tried first) this is how a client stops paying a
/// timeout to a dead host on every request: it fails over, sticks to the host that answered, and probes the others
/// with backoff.</remarks>
public sealed class HostBackoff
{
    public static readonly TimeSpan DefaultInitialDelay = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan DefaultMaxDelay = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<string, State> _failed = new(StringComparer.OrdinalIgnoreCase);
    private readonly TimeProvider _time;
    private readonly TimeSpan _initial;
    private readonly TimeSpan _max;

    public HostBackoff(TimeProvider? time = null, TimeSpan? initialDelay = null, TimeSpan? maxDelay = null)
    {
        _time = time ?? TimeProvider.System;
        _initial = initialDelay ?? DefaultInitialDelay;
        _max = maxDelay ?? DefaultMaxDelay;
    }

    /// <summary>The hosts of <paramref name="preferred"/> in the order to try them: those not backing off in their given
    /// order, then those backing off, soonest retry first. Lazy: a host whose backoff has just passed is claimed for this
    /// caller's probe (others keep skipping it) only when the enumeration reaches it.</summary>
    public IEnumerable<T> Order<T>(IEnumerable<T> preferred, Func<T, string> key)
    {
        List<(T Host, DateTimeOffset RetryAt)>? later = null;
        foreach (var host in preferred)
        {
            if (TryBeginAttempt(key(host), out var retryAt))
            {
                yield return host;
            }
            else
            {
                (later ??= []).Add((host, retryAt));
            }
        }

        if (later is not null)
        {
            foreach (var (host, _) in later.OrderBy(l => l.RetryAt))
            {
                yield return host;
            }
        }
    }

    /// <summary>True when <paramref name="host"/> may be tried now: it has not failed, or its backoff has passed (then this
    /// caller holds the probe until it reports the outcome). Else false, with when it may be tried again.</summary>
    public bool TryBeginAttempt(string host, out DateTimeOffset retryAt)
    {
        retryAt = default;
        if (!_failed.TryGetValue(host, out var state))
        {
            return true;
        }

        var now = _time.GetUtcNow();
        lock (state)
        {
            if (now < state.RetryAt)
            {
                retryAt = state.RetryAt;
                return false;
            }

            // This caller probes; the others wait another period rather than all paying the timeout at once.
            state.RetryAt = now + Delay(state.Failures);
            return true;
        }
    }

    /// <summary>Whether <paramref name="host"/> is backing off now (without claiming anything).</summary>
    public bool IsBackingOff(string host) => _failed.TryGetValue(host, out var state) && _time.GetUtcNow() < state.RetryAt;

    /// <summary>The host did not answer: its backoff starts, or doubles.</summary>
    public void RecordFailure(string host)
    {
        var state = _failed.GetOrAdd(host, _ => new State());
        lock (state)
        {
            state.Failures++;
            state.RetryAt = _time.GetUtcNow() + Delay(state.Failures);
        }
    }

    /// <summary>The host answered: it is tried in its place again.</summary>
    public void RecordSuccess(string host) => _failed.TryRemove(host, out _);

    /// <summary>The hosts backing off or waiting for their probe, to keep them between runs.</summary>
    public IReadOnlyList<HostBackoffEntry> Export() =>
        _failed.Select(p => { lock (p.Value) { return new HostBackoffEntry(p.Key, p.Value.Failures, p.Value.RetryAt); } }).ToList();

    /// <summary>Takes over kept entries (e.g. from a previous run); entries with no failure are ignored.</summary>
    public void Import(IEnumerable<HostBackoffEntry> entries)
    {
        foreach (var entry in entries.Where(e => e.Failures > 0))
        {
            _failed[entry.Host] = new State { Failures = entry.Failures, RetryAt = entry.RetryAt };
        }
    }

    /// <summary>The backoff after <paramref name="failures"/> consecutive failures: initial × 2^(failures - 1), at most max.</summary>
    public TimeSpan Delay(int failures)
    {
        double factor = Math.Pow(2, Math.Clamp(failures - 1, 0, 30));
        return TimeSpan.FromTicks((long)Math.Min(_max.Ticks, _initial.Ticks * factor));
    }

    private sealed class State
    {
        public int Failures;
        public DateTimeOffset RetryAt;
    }
}
