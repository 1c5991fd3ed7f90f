using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using KmsFarm.Grains;
using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Node.Diagnostics;

/// <summary>The node's KMS front-end instruments on meter <c>KmsFarm</c>: requests, their duration, connections and
/// protocol errors (names and their Prometheus forms in docs/metrics.md). Public methods check <c>Enabled</c> and build
/// tags in a non-inlined core, so a node without listeners pays one branch.</summary>
public sealed class KmsMetrics
{
    public const string MeterName = "KmsFarm";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly UpDownCounter<long> _activeConnections;
    private readonly Histogram<double> _connectionDuration;
    private readonly Counter<long> _protocolErrors;
    private readonly Counter<long> _accepted;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _refusals;

    public KmsMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>(
            "kms.activation.requests", "{request}",
            "KMS activation requests answered, by product group, protocol version, result and license status.");
        _duration = meter.CreateHistogram(
            "kms.activation.duration", "s", "Time from a complete request to its answer being written.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
        _activeConnections = meter.CreateUpDownCounter<long>("kms.rpc.active_connections", "{connection}", "Open KMS connections.");
        _connectionDuration = meter.CreateHistogram(
            "kms.rpc.connection.duration", "s", "Lifetime of a KMS connection.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300] });
        _accepted = meter.CreateCounter<long>(
            "kms.rpc.connections.accepted", "{connection}", "KMS connections admitted (past the access list and the connection cap).");
        _protocolErrors = meter.CreateCounter<long>("kms.rpc.protocol_errors", "{error}", "Connections closed for breaking the protocol.");
        _rejected = meter.CreateCounter<long>(
            "kms.rpc.connections.rejected", "{connection}",
            "Connections closed at accept (access list, connection cap, per-source limit).");
        _refusals = meter.CreateCounter<long>(
            "kms.admission.refusals", "{refusal}",
            "Connections and requests refused by admission control, by reason: closed at accept, cut (handshake timeout, lifetime) or "
            + "answered server-too-busy (request rate).");
    }

    /// <summary>Bounded product-group tag from the request's application id.</summary>
    public static string ProductGroupTag(Guid applicationId) =>
        KmsApplicationIds.TryGetGroup(applicationId, out var group) ? ProductGroupMetrics.GroupTag(group) : "unknown";

    /// <summary>Bounded <c>kms.license.status</c> tag: the client's Software Licensing state (0–6) by name.</summary>
    public static string LicenseStatusTag(uint? licenseStatus) => licenseStatus switch
    {
        null => "unknown",
        0 => "unlicensed",
        1 => "licensed",
        2 => "oob_grace",
        3 => "oot_grace",
        4 => "non_genuine_grace",
        5 => "notification",
        6 => "extended_grace",
        _ => "other",
    };

    /// <param name="result"><c>activated</c>, <c>rejected</c> (an HRESULT answer) or <c>error</c> (not answered: store or
    /// farm failure).</param>
    /// <param name="licenseStatus">From <see cref="LicenseStatusTag"/>.</param>
    public void RequestCompleted(KmsProtocolVersion version, string result, string productGroup, string licenseStatus, double seconds)
    {
        if (_requests.Enabled || _duration.Enabled)
        {
            RequestCompletedCore(version, result, productGroup, licenseStatus, seconds);
        }
    }

    /// <summary>Counts an admitted connection. Returns whether it was counted as active, so the matching
    /// <see cref="ConnectionStopped"/> stays balanced even if a listener subscribes in between.</summary>
    public bool ConnectionStarted()
    {
        if (_accepted.Enabled)
        {
            _accepted.Add(1);
        }

        if (!_activeConnections.Enabled)
        {
            return false;
        }

        _activeConnections.Add(1);
        return true;
    }

    public void ConnectionStopped(bool counted, long startTimestamp)
    {
        if (counted)
        {
            _activeConnections.Add(-1);
        }

        if (_connectionDuration.Enabled)
        {
            _connectionDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds);
        }
    }

    public void ProtocolError(string errorType)
    {
        if (_protocolErrors.Enabled)
        {
            _protocolErrors.Add(1, new KeyValuePair<string, object?>("error.type", errorType));
        }
    }

    /// <summary>A connection closed at accept. <paramref name="reason"/> (tag <c>error.type</c>): <c>access_denied</c>,
    /// <c>connection_limit</c> or <c>per_source_limit</c>.</summary>
    public void ConnectionRejected(string reason)
    {
        if (_rejected.Enabled)
        {
            _rejected.Add(1, new KeyValuePair<string, object?>("error.type", reason));
        }
    }

    /// <summary>Anything admission control refused. <paramref name="reason"/> (tag <c>reason</c>): <c>access_denied</c>,
    /// <c>connection_limit</c>, <c>per_source_limit</c> (closed at accept), <c>handshake_timeout</c>, <c>lifetime</c>
    /// (connection cut) or <c>rate_limited</c> (request answered nca_server_too_busy).</summary>
    public void AdmissionRefused(string reason)
    {
        if (_refusals.Enabled)
        {
            _refusals.Add(1, new KeyValuePair<string, object?>("reason", reason));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RequestCompletedCore(KmsProtocolVersion version, string result, string productGroup, string licenseStatus, double seconds)
    {
        // The histogram leaves license status out: every tag multiplies its buckets, and latency does not depend on it.
        var tags = new TagList
        {
            { "kms.protocol.version", (int)version },
            { "kms.result", result },
            { "kms.product.group", productGroup },
        };
        _duration.Record(seconds, tags);
        tags.Add("kms.license.status", licenseStatus);
        _requests.Add(1, tags);
    }
}
