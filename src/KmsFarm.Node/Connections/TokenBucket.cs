namespace KmsFarm.Node.Connections;

/// <summary>A token bucket over <see cref="TimeProvider.GetTimestamp"/> ticks: it refills at <c>rate</c> tokens per second up
/// to <c>capacity</c> and starts full. Not thread-safe; the caller holds a lock.</summary>
public struct TokenBucket
{
    private double _tokens;
    private long _updated;

    public TokenBucket(int capacity, long now)
    {
        _tokens = capacity;
        _updated = now;
    }

    /// <summary>Takes one token if there is one.</summary>
    public bool TryTake(double rate, int capacity, long now, long frequency)
    {
        Refill(rate, capacity, now, frequency);
        if (_tokens < 1)
        {
            return false;
        }

        _tokens -= 1;
        return true;
    }

    /// <summary>Whether the bucket is full again, i.e. forgetting it changes nothing.</summary>
    public bool IsFull(double rate, int capacity, long now, long frequency)
    {
        Refill(rate, capacity, now, frequency);
        return _tokens >= capacity;
    }

    private void Refill(double rate, int capacity, long now, long frequency)
    {
        if (now > _updated)
        {
            _tokens = Math.Min(capacity, _tokens + ((now - _updated) * rate / frequency));
            _updated = now;
        }
    }
}
