using System.Globalization;
using System.Text;
using KmsFarm.Client.Load;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Client.Cli;

/// <summary><c>load --timeline FILE</c>: the run's running totals every <see cref="Interval"/> as CSV, each sample with
/// its wall-clock time, so a fault injected from outside (a killed node, a stopped database) can be lined up with what the
/// clients saw: when activations of a product group stopped and when they came back. Each line is flushed as it is
/// written; the last one is taken when the run ends and equals the report's totals.</summary>
internal static class LoadTimelineWriter
{
    /// <summary>Time between samples: fine enough to time a fail-over of a few seconds, cheap enough to leave on.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(200);

    /// <summary><c>unix_ms,elapsed_ms,requests,activations,failed</c>, one column per <see cref="LoadErrorKind"/>
    /// (<c>connect,timeout,protocol,connectionlost,refused</c>), then the activations of each <see cref="ProductGroup"/>
    /// (<c>windows,office2010,office2013plus</c>). Every figure is a running total since the run started.</summary>
    public static string Header { get; } = string.Join(
        ',',
        new[] { "unix_ms", "elapsed_ms", "requests", "activations", "failed" }
            .Concat(Enum.GetNames<LoadErrorKind>().Select(n => n.ToLowerInvariant()))
            .Concat(Enum.GetNames<ProductGroup>().Select(n => n.ToLowerInvariant())));

    public static async Task WriteAsync(LoadGenerator generator, FileInfo file, TimeProvider time, CancellationToken cancellationToken)
    {
        await using var writer = new StreamWriter(file.FullName, append: false);
        await writer.WriteLineAsync(Header).ConfigureAwait(false);
        using var timer = new PeriodicTimer(Interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                await WriteSampleAsync(writer, generator.GetProgress(), time).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended: one more sample, its final totals.
        }

        await WriteSampleAsync(writer, generator.GetProgress(), time).ConfigureAwait(false);
    }

    internal static string Line(LoadProgress progress, DateTimeOffset now)
    {
        var ic = CultureInfo.InvariantCulture;
        var line = new StringBuilder(128);
        line.Append(ic, $"{now.ToUnixTimeMilliseconds()},{(long)progress.Elapsed.TotalMilliseconds},{progress.Requests},{progress.Activations},{progress.Failed}");
        foreach (var kind in Enum.GetValues<LoadErrorKind>())
        {
            line.Append(ic, $",{((int)kind < progress.ErrorsByKind.Count ? progress.ErrorsByKind[(int)kind] : 0)}");
        }

        foreach (var group in Enum.GetValues<ProductGroup>())
        {
            line.Append(ic, $",{progress.Groups.Where(g => g.Group == group).Sum(g => g.Activations)}");
        }

        return line.ToString();
    }

    private static async Task WriteSampleAsync(StreamWriter writer, LoadProgress progress, TimeProvider time)
    {
        await writer.WriteLineAsync(Line(progress, time.GetUtcNow())).ConfigureAwait(false);
        await writer.FlushAsync(CancellationToken.None).ConfigureAwait(false);
    }
}
