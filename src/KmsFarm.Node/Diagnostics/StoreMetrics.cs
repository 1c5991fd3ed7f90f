using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using KmsFarm.Activation;
using KmsFarm.Grains;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Node.Diagnostics;

/// <summary>The store's instruments on meter <c>KmsFarm</c>, recorded by <see cref="Storage.MeteredActivationStore"/> around
/// the calls on the serving path: operation duration, ledger batch size, errors (docs/metrics.md).</summary>
public sealed class StoreMetrics
{
    /// <summary><c>db.operation.name</c> values.</summary>
    public const string CommitLedger = "commit_ledger";
    public const string AppendRefusal = "append_refusal";
    public const string LoadLedger = "load_ledger";
    public const string CountClients = "count_clients";

    private readonly Histogram<double> _duration;
    private readonly Histogram<int> _batchSize;
    private readonly Counter<long> _errors;

    public StoreMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        var meter = meterFactory.Create(KmsMetrics.MeterName);
        _duration = meter.CreateHistogram(
            "kms.store.operation.duration", "s",
            "Duration of a store call: a ledger commit (one transaction per batch), a refusal's history row, a cache load, a client count.",
            advice: new InstrumentAdvice<double>
            {
                HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
            });
        _batchSize = meter.CreateHistogram(
            "kms.store.batch.size", "{attempt}",
            "Activation attempts written by one ledger commit (the product-group grain's group commit).",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _errors = meter.CreateCounter<long>("kms.store.errors", "{error}", "Store calls that failed, by operation and error type.");
    }

    /// <summary>Bounded <c>error.type</c> of a store failure: <c>version_conflict</c> (a fenced commit), <c>canceled</c>,
    /// <c>timeout</c>, else the exception's full type name (OpenTelemetry's convention; a handful of database types).</summary>
    public static string ErrorType(Exception exception) => exception switch
    {
        LedgerVersionConflictException => "version_conflict",
        OperationCanceledException => "canceled",
        TimeoutException => "timeout",
        _ => exception.GetType().FullName ?? "unknown",
    };

    /// <param name="group">Null for a call not tied to a group (a refusal for an unknown application).</param>
    /// <param name="batchSize">Attempts in a ledger commit, else null.</param>
    /// <param name="error">The call's failure, or null.</param>
    public void Completed(string operation, ProductGroup? group, long startTimestamp, int? batchSize, Exception? error)
    {
        if (_duration.Enabled || _batchSize.Enabled || (error is not null && _errors.Enabled))
        {
            CompletedCore(operation, group, Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, batchSize, error);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void CompletedCore(string operation, ProductGroup? group, double seconds, int? batchSize, Exception? error)
    {
        var tags = new TagList
        {
            { "db.operation.name", operation },
            { "kms.product.group", group is { } g ? ProductGroupMetrics.GroupTag(g) : "unknown" },
        };
        if (batchSize is int size && error is null)
        {
            _batchSize.Record(size, new KeyValuePair<string, object?>("kms.product.group", tags[1].Value));
        }

        if (error is not null)
        {
            tags.Add("error.type", ErrorType(error));
            _errors.Add(1, tags);
        }

        _duration.Record(seconds, tags);
    }
}
