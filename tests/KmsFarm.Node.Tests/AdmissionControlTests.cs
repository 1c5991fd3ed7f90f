using System.Diagnostics.Metrics;
using System.Net;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Connections;
using KmsFarm.Node.Diagnostics;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Tests;

/// <summary><see cref="ConnectionAdmission"/>, <see cref="TokenBucket"/> and <see cref="ConnectionDeadlines"/> on their own,
/// with a clock the test moves: limits, the bucket, the summaries logged per source and the forgetting of sources.</summary>
public sealed class AdmissionControlTests : IDisposable
{
    private static readonly IPAddress Flooder = IPAddress.Parse("127.0.0.2");
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly CapturingLoggerProvider _logs = new();
    private readonly SteppedTime _time = new();

    public void Dispose() => _services.Dispose();

    [Fact]
    public void The_global_cap_is_checked_before_the_sources_limit_and_a_release_frees_both()
    {
        using var admission = Create(new KmsListenerOptions { MaxConnections = 3, MaxConnectionsPerSource = 2 });
        var a = admission.TryAdmit(Flooder, out _);
        var b = admission.TryAdmit(IPAddress.Parse("::ffff:127.0.0.2"), out _); // the same source, IPv4-mapped
        Assert.NotNull(a);
        Assert.NotNull(b);
        Assert.Null(admission.TryAdmit(Flooder, out var refusal));
        Assert.Equal(AdmissionRefusal.PerSourceLimit, refusal);

        var c = admission.TryAdmit(IPAddress.Parse("127.0.0.3"), out _);
        Assert.NotNull(c);
        Assert.True(admission.IsFull);
        Assert.Null(admission.TryAdmit(IPAddress.Parse("127.0.0.4"), out refusal));
        Assert.Equal(AdmissionRefusal.ConnectionLimit, refusal);

        admission.Release(a);
        admission.Release(a); // twice is once
        Assert.Equal(2, admission.ActiveConnections);
        Assert.NotNull(admission.TryAdmit(Flooder, out _));
    }

    [Fact]
    public void Refusals_are_counted_by_reason_and_summed_up_in_one_warning_per_source_per_interval()
    {
        using var refusals = Collect("kms.admission.refusals");
        using var rejected = Collect("kms.rpc.connections.rejected");
        using var admission = Create(new KmsListenerOptions { MaxConnectionsPerSource = 64 });
        var held = Enumerable.Range(0, 2000).Select(i => admission.TryAdmit(Flooder, out _)).ToList();
        Assert.Equal(64, held.Count(t => t is not null));
        admission.Refuse(Flooder, AdmissionRefusal.HandshakeTimeout);
        admission.Refuse(IPAddress.Parse("10.0.0.9"), AdmissionRefusal.AccessDenied);

        admission.ReportRefusals();

        Assert.Equal(1938, refusals.GetMeasurementSnapshot().Count);
        Assert.Equal(1936, refusals.GetMeasurementSnapshot().Count(m => (string?)m.Tags["reason"] == "per_source_limit"));
        Assert.Equal(1, refusals.GetMeasurementSnapshot().Count(m => (string?)m.Tags["reason"] == "handshake_timeout"));

        // The connections closed at accept are also counted as such; the one cut later is not.
        Assert.Equal(1937, rejected.GetMeasurementSnapshot().Count);
        Assert.Equal(1936, rejected.GetMeasurementSnapshot().Count(m => (string?)m.Tags["error.type"] == "per_source_limit"));
        var warnings = Warnings();
        Assert.Equal(2, warnings.Count);
        Assert.Equal(
            "Refused 1937 connection(s) or request(s) from 127.0.0.2 in the last 10 s: per_source_limit 1936, handshake_timeout 1",
            warnings[0]);
        Assert.Equal("Refused 1 connection(s) or request(s) from 10.0.0.9 in the last 10 s: access_denied 1", warnings[1]);

        // Nothing new: nothing logged.
        admission.ReportRefusals();
        Assert.Equal(2, Warnings().Count);
    }

    [Fact]
    public void Beyond_the_busiest_sources_one_line_sums_up_the_others()
    {
        using var admission = Create(new KmsListenerOptions());
        for (int i = 1; i <= ConnectionAdmission.MaxSummarySources + 5; i++)
        {
            for (int n = 0; n < i; n++)
            {
                admission.Refuse(IPAddress.Parse($"10.1.0.{i}"), AdmissionRefusal.AccessDenied);
            }
        }

        admission.ReportRefusals();

        var warnings = Warnings();
        Assert.Equal(ConnectionAdmission.MaxSummarySources + 1, warnings.Count);
        Assert.StartsWith("Refused 25 connection(s) or request(s) from 10.1.0.25 ", warnings[0], StringComparison.Ordinal);
        Assert.Equal("Refused 15 connection(s) or request(s) from 5 more source(s) in the last 10 s: access_denied 15", warnings[^1]);
    }

    [Fact]
    public void The_request_bucket_holds_the_burst_refills_at_the_rate_and_a_source_is_forgotten_only_once_it_is_full()
    {
        using var requests = Collect("kms.admission.refusals");
        using var admission = Create(new KmsListenerOptions { RequestRate = 2, RequestBurst = 4 });
        var ticket = admission.TryAdmit(Flooder, out _)!;
        Assert.Equal([true, true, true, true, false], Enumerable.Range(0, 5).Select(_ => admission.TryTakeRequest(ticket)));
        _time.Advance(TimeSpan.FromSeconds(1)); // two tokens
        Assert.Equal([true, true, false], Enumerable.Range(0, 3).Select(_ => admission.TryTakeRequest(ticket)));
        Assert.Equal(2, requests.GetMeasurementSnapshot().Count);
        Assert.All(requests.GetMeasurementSnapshot(), m => Assert.Equal("rate_limited", m.Tags["reason"]));

        admission.Release(ticket);
        admission.ReportRefusals();
        Assert.Equal(1, admission.TrackedSources); // refusals were pending
        admission.ReportRefusals();
        Assert.Equal(1, admission.TrackedSources); // the bucket is not full yet: a reconnect must not refill it
        ticket = admission.TryAdmit(Flooder, out _)!;
        Assert.False(admission.TryTakeRequest(ticket));
        admission.Release(ticket);

        _time.Advance(TimeSpan.FromSeconds(2));
        admission.ReportRefusals();
        admission.ReportRefusals();
        Assert.Equal(0, admission.TrackedSources);
    }

    [Fact]
    public void No_request_limit_when_the_rate_is_zero()
    {
        using var admission = Create(new KmsListenerOptions { RequestRate = 0, RequestBurst = 1 });
        var ticket = admission.TryAdmit(Flooder, out _)!;
        Assert.All(Enumerable.Range(0, 100), _ => Assert.True(admission.TryTakeRequest(ticket)));
    }

    [Fact]
    public void The_deadlines_fire_for_the_handshake_until_the_bind_then_for_idleness_or_the_lifetime()
    {
        long f = TimeSpan.TicksPerSecond;
        var deadlines = DeadlinesFromZero(f);

        Assert.Equal(TimeSpan.FromSeconds(5), deadlines.Arm(bound: false, 0));
        Assert.Equal(ConnectionDeadlines.Deadline.Handshake, deadlines.Armed);
        Assert.Equal(TimeSpan.Zero, deadlines.Arm(bound: false, 6 * f));

        deadlines.Activity(2 * f);
        Assert.Equal(TimeSpan.FromSeconds(30), deadlines.Arm(bound: true, 2 * f));
        Assert.Equal(ConnectionDeadlines.Deadline.Idle, deadlines.Armed);

        deadlines.Activity(50 * f);
        Assert.Equal(TimeSpan.FromSeconds(10), deadlines.Arm(bound: true, 50 * f));
        Assert.Equal(ConnectionDeadlines.Deadline.Lifetime, deadlines.Armed);
    }

    [Fact]
    public void When_the_timer_fires_the_deadline_that_passed_is_named_even_if_a_pdu_moved_the_timer_in_the_same_instant()
    {
        long f = TimeSpan.TicksPerSecond;
        var deadlines = DeadlinesFromZero(f);
        deadlines.Arm(bound: false, 0);

        // The handshake time is up; a PDU (not a bind) arrived as the timer fired and re-armed it for the idle timeout.
        deadlines.Activity(5 * f);
        deadlines.Arm(bound: true, 5 * f);
        Assert.Equal(ConnectionDeadlines.Deadline.Handshake, deadlines.Passed(bound: false, 5 * f));

        // A bind completed in that instant: nothing has passed, the timer's last target is named.
        Assert.Equal(ConnectionDeadlines.Deadline.Idle, deadlines.Passed(bound: true, 5 * f));

        // Quiet for the idle timeout; later, busy until the lifetime is up.
        Assert.Equal(ConnectionDeadlines.Deadline.Idle, deadlines.Passed(bound: true, 35 * f));
        deadlines.Activity(40 * f);
        Assert.Equal(ConnectionDeadlines.Deadline.Lifetime, deadlines.Passed(bound: true, 60 * f));
    }

    /// <summary>Deadlines of a connection accepted at timestamp 0, on a clock of <paramref name="frequency"/> ticks per
    /// second: handshake 5 s, idle 30 s, lifetime 60 s.</summary>
    private static ConnectionDeadlines DeadlinesFromZero(long frequency) => new(
        new KmsListenerOptions
        {
            HandshakeTimeout = TimeSpan.FromSeconds(5),
            IdleTimeout = TimeSpan.FromSeconds(30),
            ConnectionLifetime = TimeSpan.FromSeconds(60),
        },
        0,
        frequency);

    private MetricCollector<long> Collect(string instrument) =>
        new(_services.GetRequiredService<IMeterFactory>(), KmsMetrics.MeterName, instrument);

    private ConnectionAdmission Create(KmsListenerOptions options)
    {
        var logger = new LoggerFactory([_logs]).CreateLogger<ConnectionAdmission>();
        var metrics = new KmsMetrics(_services.GetRequiredService<IMeterFactory>());
        return new ConnectionAdmission(Options.Create(options), metrics, _time, logger);
    }

    private List<string> Warnings() => _logs.Entries.Where(e => e.Level == LogLevel.Warning).Select(e => e.Message).ToList();

    /// <summary>Timestamps move only when the test says; timers never fire (the test calls ReportRefusals itself).</summary>
    private sealed class SteppedTime : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => Interlocked.Read(ref _ticks);

        public void Advance(TimeSpan delta) => Interlocked.Add(ref _ticks, delta.Ticks);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) => new NeverTimer();

        private sealed class NeverTimer : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
