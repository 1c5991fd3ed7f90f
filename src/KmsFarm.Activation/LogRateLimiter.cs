namespace KmsFarm.Activation;

/// <summary>Lets a recurring log line (the same failure, once per request or batch while a database is down) through at
/// most once per <see cref="Interval"/> and counts the occurrences it held back, so the line that does get through can say
/// how many there were. Thread-safe.</summary>
public sealed class LogRateLimiter
{
    /// <summary>One line per half minute: an outage stays visible without flooding the log.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(30);

    private readonly TimeProvider _timeProvider;
    private readonly Lock _lock = new();
    private long _nextAllowed = long.MinValue;
    private long _suppressed;

    public LogRateLimiter(TimeSpan? interval = null, TimeProvider? timeProvider = null)
    {
        Interval = interval ?? DefaultInterval;
        ArgumentOutOfRangeException.ThrowIfLessThan(Interval, TimeSpan.Zero);
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    public TimeSpan Interval { get; }

    /// <summary>True when this occurrence should be logged; <paramref name="suppressed"/> is then the number of occurrences
    /// held back since the last one logged (0 otherwise).</summary>
    public bool TryAcquire(out long suppressed)
    {
        long now = _timeProvider.GetUtcNow().UtcTicks;
        lock (_lock)
        {
            if (now >= _nextAllowed)
            {
                suppressed = _suppressed;
                _suppressed = 0;
                _nextAllowed = now + Interval.Ticks;
                return true;
            }

            _suppressed++;
            suppressed = 0;
            return false;
        }
    }
}
