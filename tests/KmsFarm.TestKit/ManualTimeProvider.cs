namespace KmsFarm.TestKit;

/// <summary>A <see cref="TimeProvider"/> whose wall clock moves only when a test says so, and may be set back; timestamps
/// and timers stay the real ones. Where the code under test waits on a timer or a timeout of the provider, use
/// Microsoft.Extensions.TimeProvider.Testing's FakeTimeProvider instead (ReadinessTests).</summary>
public sealed class ManualTimeProvider(DateTimeOffset start) : TimeProvider
{
    private long _utcTicks = start.UtcTicks;

    public ManualTimeProvider()
        : this(new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero))
    {
    }

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _utcTicks), TimeSpan.Zero);

    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    public void Advance(TimeSpan delta) => Interlocked.Add(ref _utcTicks, delta.Ticks);

    public void SetUtcNow(DateTimeOffset value) => Interlocked.Exchange(ref _utcTicks, value.UtcTicks);
}
