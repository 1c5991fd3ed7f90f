using System.Globalization;
using KmsFarm.Client.Load;
using Spectre.Console;

namespace KmsFarm.Client.Cli;

/// <summary>The load generator's progress while it runs, once a second: request rate, p99 latency of the last second,
/// errors, and activations and the last count per product group. On a terminal a live table redrawn in place; otherwise
/// (a pipe, a file, CI) one line per second, so logs stay readable.</summary>
internal static class LoadProgressDisplay
{
    public static async Task ShowAsync(LoadGenerator generator, TextWriter error, CancellationToken cancellationToken)
    {
        var console = TerminalOutput.Create(error);
        var last = generator.GetProgress();
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        if (!TerminalOutput.IsLive(console))
        {
            try
            {
                while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                {
                    var now = generator.GetProgress();
                    await error.WriteLineAsync(Line(now, last)).ConfigureAwait(false);
                    last = now;
                }
            }
            catch (OperationCanceledException)
            {
                // The run ended.
            }

            return;
        }

        await console.Live(Render(last, last)).AutoClear(false).StartAsync(async live =>
        {
            try
            {
                while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
                {
                    var now = generator.GetProgress();
                    live.UpdateTarget(Render(now, last));
                    last = now;
                }
            }
            catch (OperationCanceledException)
            {
                live.UpdateTarget(Render(generator.GetProgress(), last));
            }
        }).ConfigureAwait(false);
    }

    /// <summary>One progress line: <c>[   5s] requests … activations … N/s  p99 X ms  errors N (refused N)  Windows N (count C) …</c></summary>
    internal static string Line(LoadProgress now, LoadProgress last)
    {
        var ic = CultureInfo.InvariantCulture;
        string groups = string.Join("  ", now.Groups.Select(g =>
            string.Create(ic, $"{g.Group} {g.Activations}{(g.LastCount is { } c ? $" (count {c})" : string.Empty)}")));
        return string.Create(ic,
            $"[{now.Elapsed.TotalSeconds,5:0}s] requests {now.Requests,9}  activations {now.Activations,9}  {Rate(now, last),8:0}/s  " +
            $"p99 {P99(now, last)}  errors {now.Errors} (refused {now.Refused})  {groups}");
    }

    private static Rows Render(LoadProgress now, LoadProgress last)
    {
        var ic = CultureInfo.InvariantCulture;
        var totals = new Table().Border(TableBorder.Rounded).Title(string.Create(ic, $"Load: {now.Elapsed.TotalSeconds:0} s"))
            .AddColumns("Requests", "Activations", "Rate", "p99 (last second)", "Errors", "Refused");
        foreach (var column in totals.Columns)
        {
            column.RightAligned();
        }

        totals.AddRow(
            now.Requests.ToString("N0", ic), now.Activations.ToString("N0", ic), string.Create(ic, $"{Rate(now, last):N0}/s"), P99(now, last),
            now.Errors > now.Refused ? $"[red]{now.Errors.ToString("N0", ic)}[/]" : now.Errors.ToString("N0", ic), now.Refused.ToString("N0", ic));
        var groups = new Table().Border(TableBorder.Rounded).AddColumns("Product group", "Activations", "Last count");
        groups.Columns[1].RightAligned();
        groups.Columns[2].RightAligned();
        foreach (var g in now.Groups)
        {
            groups.AddRow(g.Group.ToString(), g.Activations.ToString("N0", ic), g.LastCount?.ToString(ic) ?? "-");
        }

        return new Rows(totals, groups);
    }

    private static double Rate(LoadProgress now, LoadProgress last)
    {
        double seconds = (now.Elapsed - last.Elapsed).TotalSeconds;
        return seconds > 0 ? (now.Activations - last.Activations) / seconds : 0;
    }

    private static string P99(LoadProgress now, LoadProgress last) =>
        now.P99MsSince(last) is { } ms ? string.Create(CultureInfo.InvariantCulture, $"{ms:0.0} ms") : "-";
}
