using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Node.Diagnostics;

/// <summary>The node's instruments on meter <c>KmsFarm</c> (names in docs/metrics.md once the exporter lands). Public
/// methods check <c>Enabled</c> and build tags in a non-inlined core, so a node without listeners pays one branch.</summary>
public sealed class KmsMetrics
{
    public const string MeterName = "KmsFarm";

    private readonly Counter<long> _requests;
    private readonly Histogram<double> _duration;
    private readonly UpDownCounter<long> _activeConnections;
    private readonly Histogram<double> _connectionDuration;
    private readonly Counter<long> _protocolErrors;
    private readonly Counter<long> _rejected;

    public KmsMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _requests = meter.CreateCounter<long>("kms.activation.requests", "{request}", "KMS activation requests answered, by result.");
        _duration = meter.CreateHistogram(
            "kms.activation.duration", "s", "Time from a complete request to its answer being written.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
        _activeConnections = meter.CreateUpDownCounter<long>("kms.rpc.active_connections", "{connection}", "Open KMS connections.");
        _connectionDuration = meter.CreateHistogram<double>("kms.rpc.connection.duration", "s", "Lifetime of a KMS connection.");
        _protocolErrors = meter.CreateCounter<long>("kms.rpc.protocol_errors", "{error}", "Connections closed for breaking the protocol.");
        _rejected = meter.CreateCounter<long>(
            "kms.rpc.connections.rejected", "{connection}", "Connections closed at accept (access list or connection cap).");
    }

    /// <summary>Bounded product-group tag from the request's application id.</summary>
    public static string ProductGroupTag(Guid applicationId) =>
        !KmsApplicationIds.TryGetGroup(applicationId, out var group) ? "unknown"
        : group switch
        {
            ProductGroup.Windows => "windows",
            ProductGroup.Office2013Plus => "office2013plus",
            _ => "office2010",
        };

    public void RequestCompleted(KmsProtocolVersion version, string result, string productGroup, double seconds)
    {
        if (_requests.Enabled || _duration.Enabled)
        {
            RequestCompletedCore(version, result, productGroup, seconds);
        }
    }

    /// <summary>Returns whether the connection was counted, so the matching <see cref="ConnectionStopped"/> stays balanced
    /// even if a listener subscribes in between.</summary>
    public bool ConnectionStarted()
    {
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

    /// <summary><paramref name="reason"/>: <c>access_denied</c> or <c>connection_limit</c>.</summary>
    public void ConnectionRejected(string reason)
    {
        if (_rejected.Enabled)
        {
            _rejected.Add(1, new KeyValuePair<string, object?>("error.type", reason));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void RequestCompletedCore(KmsProtocolVersion version, string result, string productGroup, double seconds)
    {
        var tags = new TagList
        {
            { "kms.protocol.version", (int)version },
            { "kms.result", result },
            { "kms.product.group", productGroup },
        };
        _requests.Add(1, tags);
        _duration.Record(seconds, tags);
    }
}
