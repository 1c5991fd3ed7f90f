using KmsFarm.TestKit;

namespace KmsFarm.Activation.Tests;

public sealed class LogRateLimiterTests
{
    [Fact]
    public void One_line_per_interval_and_the_next_one_counts_what_was_held_back()
    {
        var clock = new ManualTimeProvider();
        var limiter = new LogRateLimiter(TimeSpan.FromSeconds(30), clock);

        Assert.True(limiter.TryAcquire(out long first));
        Assert.Equal(0, first);
        for (int i = 0; i < 1000; i++)
        {
            Assert.False(limiter.TryAcquire(out _));
            clock.Advance(TimeSpan.FromMilliseconds(10));
        }

        clock.Advance(TimeSpan.FromSeconds(20));
        Assert.True(limiter.TryAcquire(out long suppressed));
        Assert.Equal(1000, suppressed);
        Assert.False(limiter.TryAcquire(out _));
    }
}
