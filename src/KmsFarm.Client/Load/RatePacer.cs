namespace KmsFarm.Client.Load;

/// <summary>Open-loop pacing shared by every worker: the n-th request (from 0) is due <c>n / rate</c> seconds after the
/// start, whatever happened to the earlier ones. A worker that falls behind sends at once (no request is dropped and
/// none is sent early), so over a run the rate never exceeds the target and catches up after a stall.</summary>
internal sealed class RatePacer
{
    private readonly double _rate;
    private long _next;

    public RatePacer(double rate)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rate);
        if (!double.IsFinite(rate))
        {
            throw new ArgumentOutOfRangeException(nameof(rate), rate, "The rate must be finite.");
        }

        _rate = rate;
    }

    /// <summary>Takes the next slot; returns when it is due, as an offset from the start of the run.</summary>
    public TimeSpan Reserve()
    {
        long slot = Interlocked.Increment(ref _next) - 1;
        return TimeSpan.FromTicks((long)Math.Round(slot * (TimeSpan.TicksPerSecond / _rate)));
    }

    /// <summary>How long to wait at <paramref name="now"/> for a slot due at <paramref name="due"/> (zero when late).</summary>
    public static TimeSpan DelayUntil(TimeSpan due, TimeSpan now) => due > now ? due - now : TimeSpan.Zero;
}
