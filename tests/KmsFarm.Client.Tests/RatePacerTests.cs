using KmsFarm.Client.Load;

namespace KmsFarm.Client.Tests;

public sealed class RatePacerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Slots_are_spaced_one_over_the_rate_from_the_start()
    {
        var pacer = new RatePacer(400);

        var slots = Enumerable.Range(0, 5).Select(_ => pacer.Reserve()).ToArray();

        Assert.Equal([0, 2.5, 5, 7.5, 10], slots.Select(s => s.TotalMilliseconds));
    }

    [Fact]
    public async Task Concurrent_workers_never_share_a_slot()
    {
        var pacer = new RatePacer(1000);
        var taken = new System.Collections.Concurrent.ConcurrentBag<TimeSpan>();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
        {
            for (int i = 0; i < 500; i++)
            {
                taken.Add(pacer.Reserve());
            }
        }, Ct)));

        var expected = Enumerable.Range(0, 4000).Select(n => TimeSpan.FromMilliseconds(n));
        Assert.Equal(expected, taken.Order());
    }

    [Fact]
    public void A_late_slot_is_sent_at_once_and_an_early_one_waits_the_difference()
    {
        Assert.Equal(TimeSpan.Zero, RatePacer.DelayUntil(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(12)));
        Assert.Equal(TimeSpan.Zero, RatePacer.DelayUntil(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(10)));
        Assert.Equal(TimeSpan.FromMilliseconds(3), RatePacer.DelayUntil(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(7)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NaN)]
    public void Rejects_a_rate_that_is_not_positive_and_finite(double rate)
    {
        Assert.ThrowsAny<ArgumentOutOfRangeException>(() => new RatePacer(rate));
    }
}
