using KmsFarm.Node.Configuration;

namespace KmsFarm.Node.Connections;

/// <summary>The three clocks of one connection, run as one timer: the handshake timeout (until a bind completes), the idle
/// timeout (since the last complete PDU) and the lifetime (since accept). <see cref="Arm"/> gives the delay to the earliest
/// one that still applies; when the timer fires, <see cref="Passed"/> says which one passed (a PDU that arrived in the same
/// instant may have moved the timer's target). Timestamps are <see cref="TimeProvider.GetTimestamp"/> ticks.</summary>
public struct ConnectionDeadlines
{
    private readonly long _accepted;
    private readonly long _handshake;
    private readonly long _idle;
    private readonly long _lifetime;
    private long _lastActivity;

    public ConnectionDeadlines(KmsListenerOptions options, long now, long frequency)
    {
        _accepted = now;
        _lastActivity = now;
        _handshake = Ticks(options.HandshakeTimeout, frequency);
        _idle = Ticks(options.IdleTimeout, frequency);
        _lifetime = Ticks(options.ConnectionLifetime, frequency);
        Frequency = frequency;
    }

    public enum Deadline
    {
        Idle,
        Handshake,
        Lifetime,
    }

    public long Frequency { get; }

    /// <summary>A complete PDU arrived at <paramref name="now"/>: the idle clock restarts.</summary>
    public void Activity(long now) => _lastActivity = now;

    /// <summary>The deadline the timer was last armed for.</summary>
    public Deadline Armed { get; private set; }

    /// <summary>Arms for the earliest deadline that applies: returns the time from <paramref name="now"/> to it (never
    /// negative) and remembers it as <see cref="Armed"/>.</summary>
    public TimeSpan Arm(bool bound, long now)
    {
        Armed = Earliest(bound);
        long due = Due(Armed);
        return due <= now ? TimeSpan.Zero : TimeSpan.FromSeconds((due - now) / (double)Frequency);
    }

    /// <summary>The timer fired at <paramref name="now"/>: the deadline that passed. The handshake if the connection is
    /// still not bound and its time is up, else the lifetime if it is up, else the idle timeout if it is up; if none is
    /// (activity moved the timer's target just as it fired), the one the timer was armed for.</summary>
    public readonly Deadline Passed(bool bound, long now) =>
        !bound && Due(Deadline.Handshake) <= now ? Deadline.Handshake
        : Due(Deadline.Lifetime) <= now ? Deadline.Lifetime
        : Due(Deadline.Idle) <= now ? Deadline.Idle
        : Armed;

    private readonly Deadline Earliest(bool bound)
    {
        var earliest = Due(Deadline.Idle) <= Due(Deadline.Lifetime) ? Deadline.Idle : Deadline.Lifetime;
        return !bound && Due(Deadline.Handshake) <= Due(earliest) ? Deadline.Handshake : earliest;
    }

    private readonly long Due(Deadline deadline) => deadline switch
    {
        Deadline.Handshake => _accepted + _handshake,
        Deadline.Lifetime => _accepted + _lifetime,
        _ => _lastActivity + _idle,
    };

    private static long Ticks(TimeSpan span, long frequency) => (long)(span.TotalSeconds * frequency);
}
