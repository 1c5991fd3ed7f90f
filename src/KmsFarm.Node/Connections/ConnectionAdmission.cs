using System.Globalization;
using System.Net;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Diagnostics;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Connections;

/// <summary>Fair admission for the KMS listener, per node: the global connection cap, a connection limit and a request
/// token bucket per source address, and the count of everything refused. A refusal never queues: a connection over a
/// limit is closed at accept, a request over its source's rate gets nca_server_too_busy at once. Each refusal is counted
/// in the metrics by reason, and once per <see cref="SummaryInterval"/> one Warning line per source sums up what it was
/// refused (at most <see cref="MaxSummarySources"/> lines, then one for the rest), so a flood cannot flood the log.</summary>
/// <remarks>A source is the client's IP address (an IPv4-mapped IPv6 address counts as its IPv4 address). A source is
/// remembered while it has connections, refusals not yet reported, or a bucket not yet full again, and at most
/// <see cref="MaxTrackedSources"/> at once: refusals of sources beyond that are counted as "other sources", and such a
/// source's connections are admitted against the global cap alone.</remarks>
public sealed class ConnectionAdmission : IDisposable
{
    public static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(10);

    public const int MaxSummarySources = 20;

    public const int MaxTrackedSources = 100_000;

    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, Source> _sources = [];
    private readonly long[] _untrackedRefusals = new long[AdmissionRefusals.Count];
    private readonly KmsListenerOptions _options;
    private readonly int _perSourceLimit;
    private readonly KmsMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ITimer _summaryTimer;
    private int _active;

    public ConnectionAdmission(
        IOptions<KmsListenerOptions> options, KmsMetrics metrics, TimeProvider time, ILogger<ConnectionAdmission> logger)
    {
        _options = options.Value;
        _perSourceLimit = Math.Min(_options.MaxConnectionsPerSource, _options.MaxConnections);
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _summaryTimer = time.CreateTimer(_ => ReportRefusals(), null, SummaryInterval, SummaryInterval);
    }

    /// <summary>Connections admitted and not yet released.</summary>
    public int ActiveConnections => Volatile.Read(ref _active);

    public int MaxConnections => _options.MaxConnections;

    /// <summary>Whether the global cap is reached: the next connection would be refused.</summary>
    public bool IsFull => ActiveConnections >= _options.MaxConnections;

    /// <summary>Sources remembered now (for tests and diagnostics).</summary>
    public int TrackedSources
    {
        get
        {
            lock (_lock)
            {
                return _sources.Count;
            }
        }
    }

    /// <summary>The source of a remote address: the address, IPv4 for an IPv4-mapped IPv6 address.</summary>
    public static IPAddress SourceOf(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;

    /// <summary>Admits a connection from <paramref name="address"/> against the global cap, then its source's limit. Returns
    /// the ticket to pass to <see cref="TryTakeRequest"/> and <see cref="Release"/>, or null when refused (then counted,
    /// with <paramref name="refusal"/> saying why).</summary>
    public AdmissionTicket? TryAdmit(IPAddress address, out AdmissionRefusal refusal)
    {
        var source = SourceOf(address);
        lock (_lock)
        {
            if (_active >= _options.MaxConnections)
            {
                refusal = AdmissionRefusal.ConnectionLimit;
            }
            else
            {
                var state = GetOrAdd(source);
                if (state is not null && state.Connections >= _perSourceLimit)
                {
                    refusal = AdmissionRefusal.PerSourceLimit;
                }
                else
                {
                    _active++;
                    if (state is not null)
                    {
                        state.Connections++;
                    }

                    refusal = default;
                    return new AdmissionTicket(source, state);
                }
            }
        }

        Refuse(source, refusal);
        return null;
    }

    /// <summary>Ends an admitted connection.</summary>
    public void Release(AdmissionTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        lock (_lock)
        {
            if (ticket.Released)
            {
                return;
            }

            ticket.Released = true;
            _active--;
            if (ticket.State is { } state)
            {
                state.Connections--;
            }
        }
    }

    /// <summary>Takes one request token of the ticket's source. False (counted as <see cref="AdmissionRefusal.RateLimited"/>)
    /// when the source is over its rate. Always true when <see cref="KmsListenerOptions.RequestRate"/> is 0.</summary>
    public bool TryTakeRequest(AdmissionTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        if (_options.RequestRate <= 0 || ticket.State is not { } state)
        {
            return true;
        }

        lock (_lock)
        {
            if (state.Bucket.TryTake(_options.RequestRate, _options.RequestBurst, _time.GetTimestamp(), _time.TimestampFrequency))
            {
                return true;
            }
        }

        Refuse(ticket.Source, AdmissionRefusal.RateLimited);
        return false;
    }

    /// <summary>Counts a refusal of <paramref name="address"/> in the metrics and in its source's next Warning summary.</summary>
    public void Refuse(IPAddress address, AdmissionRefusal refusal)
    {
        _metrics.AdmissionRefused(refusal.Tag());
        if (refusal.IsAtAccept())
        {
            _metrics.ConnectionRejected(refusal.Tag());
        }

        var source = SourceOf(address);
        lock (_lock)
        {
            if (GetOrAdd(source) is { } state)
            {
                state.Refusals[(int)refusal]++;
            }
            else
            {
                _untrackedRefusals[(int)refusal]++;
            }
        }
    }

    /// <summary>Writes one Warning line per source refused anything since the last call (the sources refused most first, at
    /// most <see cref="MaxSummarySources"/>, then one line for the others) and forgets sources that no longer matter. The
    /// timer calls it every <see cref="SummaryInterval"/>.</summary>
    public void ReportRefusals()
    {
        var refused = new List<(IPAddress Source, long Total, long[] Counts)>();
        var untracked = new long[AdmissionRefusals.Count];
        lock (_lock)
        {
            long now = _time.GetTimestamp();
            var forgotten = new List<IPAddress>();
            foreach (var (address, state) in _sources)
            {
                long total = state.Refusals.Sum();
                if (total > 0)
                {
                    refused.Add((address, total, (long[])state.Refusals.Clone()));
                    Array.Clear(state.Refusals);
                }
                else if (state.Connections == 0
                    && (_options.RequestRate <= 0
                        || state.Bucket.IsFull(_options.RequestRate, _options.RequestBurst, now, _time.TimestampFrequency)))
                {
                    forgotten.Add(address);
                }
            }

            foreach (var address in forgotten)
            {
                _sources.Remove(address);
            }

            Array.Copy(_untrackedRefusals, untracked, untracked.Length);
            Array.Clear(_untrackedRefusals);
        }

        refused.Sort((a, b) => b.Total.CompareTo(a.Total));
        int interval = (int)SummaryInterval.TotalSeconds;
        foreach (var (source, total, counts) in refused.Take(MaxSummarySources))
        {
            _logger.AdmissionRefusals(total, source, interval, Describe(counts));
        }

        // The sources left out above, and those refused while the table was full (not told apart).
        var rest = refused.Skip(MaxSummarySources).ToList();
        foreach (var (_, _, counts) in rest)
        {
            for (int i = 0; i < counts.Length; i++)
            {
                untracked[i] += counts[i];
            }
        }

        if (untracked.Sum() > 0)
        {
            _logger.AdmissionRefusalsOtherSources(untracked.Sum(), rest.Count, interval, Describe(untracked));
        }
    }

    public void Dispose() => _summaryTimer.Dispose();

    /// <summary>"per_source_limit 1936, handshake_timeout 64": the non-zero counts by reason.</summary>
    private static string Describe(long[] refusals) => string.Join(", ", refusals
        .Select((n, i) => (n, i))
        .Where(r => r.n > 0)
        .Select(r => AdmissionRefusals.Tags[r.i] + " " + r.n.ToString(CultureInfo.InvariantCulture)));

    /// <summary>The source's state, created (with a full bucket) if new; null when the table is full. Under the lock.</summary>
    private Source? GetOrAdd(IPAddress source)
    {
        if (_sources.TryGetValue(source, out var state))
        {
            return state;
        }

        if (_sources.Count >= MaxTrackedSources)
        {
            return null;
        }

        state = new Source(new TokenBucket(_options.RequestBurst, _time.GetTimestamp()));
        _sources.Add(source, state);
        return state;
    }

    /// <summary>What is remembered of one source. Mutated under the admission lock only.</summary>
    internal sealed class Source(TokenBucket bucket)
    {
        public int Connections;
        public TokenBucket Bucket = bucket;
        public readonly long[] Refusals = new long[AdmissionRefusals.Count];
    }
}
