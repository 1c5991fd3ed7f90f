using System.Globalization;
using Spectre.Console;

namespace KmsFarm.Client.Cli;

/// <summary>The human form of <c>status</c>: one table per part of a node's <c>/api/status</c>.</summary>
internal static class StatusTables
{
    private static readonly string[] LicenseStatuses =
        ["unlicensed", "licensed", "oob_grace", "oot_grace", "non_genuine_grace", "notification", "extended_grace", "other"];

    public static void Write(IAnsiConsole console, FarmStatus status, FarmActivationPage? activations)
    {
        var ic = CultureInfo.InvariantCulture;
        console.MarkupLine(string.Create(ic,
            $"[bold]KmsFarm[/] farm [bold]{Markup.Escape(status.Farm.ClusterId)}[/] ({Markup.Escape(status.Farm.Store)} store, host build " +
            $"{status.Farm.HostBuild}, LCID {status.Farm.Lcid}), answered by node [bold]{Markup.Escape(status.Node)}[/] at {Time(status.Generated)}"));

        var groups = new Table().Title("Product groups").AddColumns(
            "Group", "State", "Host", "Current count", "Threshold", "Capacity", "Activation interval", "Renewal interval", "Received", "Failed");
        foreach (var i in new[] { 3, 4, 5, 8, 9 })
        {
            groups.Columns[i].RightAligned();
        }

        foreach (var g in status.Groups)
        {
            groups.AddRow(
                Markup.Escape(g.Name), Markup.Escape(g.State), Markup.Escape(g.Host ?? "-"), Number(g.CurrentCount), Number(g.Threshold),
                Number(g.Capacity), Minutes(g.ActivationIntervalMinutes), Minutes(g.RenewalIntervalMinutes), Number(g.Requests.Received),
                Number(g.Requests.Failed));
        }

        console.Write(groups);

        var epids = new Table().Title("KMS ePIDs (a known product is answered with the ePID of the served key that activates it)")
            .AddColumns("Group", "Host key", "ePID", "Other served keys");
        foreach (var g in status.Groups)
        {
            var host = g.Csvlks.FirstOrDefault(c => c.Epid == g.Epid);
            epids.AddRow(Markup.Escape(g.Name), Markup.Escape(host?.Id ?? "-"), Markup.Escape(g.Epid ?? "none served"),
                Number(g.Csvlks.Count - (host is null ? 0 : 1)));
        }

        console.Write(epids);

        var totals = new Table().Title("Requests received, farm-wide (by the license status clients reported)")
            .AddColumns(["Received", "Activated", "Failed", .. LicenseStatuses]);
        foreach (var column in totals.Columns)
        {
            column.RightAligned();
        }

        totals.AddRow([Number(status.Totals.Received), Number(status.Totals.Activated), Number(status.Totals.Failed),
            .. LicenseStatuses.Select(s => Number(status.Totals.ByLicenseStatus.GetValueOrDefault(s)))]);
        console.Write(totals);

        var silos = new Table().Title("Silos").AddColumns("Name", "Address", "Host", "Status", "Started", "Last I-am-alive");
        foreach (var s in status.Silos)
        {
            silos.AddRow(Markup.Escape(s.Name), Markup.Escape(s.Address), Markup.Escape(s.HostName), Markup.Escape(s.Status), Time(s.Started),
                Time(s.LastIAmAlive));
        }

        console.Write(silos);
        if (status.SilosError is { } error)
        {
            console.MarkupLine("[red]Silos: " + Markup.Escape(error) + "[/]");
        }

        if (activations is not null)
        {
            var latest = new Table().Title("Latest requests").AddColumns("Time", "Node", "Machine", "Address", "Product", "License status", "Result", "Count");
            foreach (var a in activations.Items)
            {
                latest.AddRow(Time(a.Time), Markup.Escape(a.Node), Markup.Escape(a.MachineName), Markup.Escape(a.ClientAddress),
                    Markup.Escape(a.Product ?? a.Group ?? "-"), Markup.Escape(a.LicenseStatus), a.Activated ? a.Result : "[red]" + a.Result + "[/]",
                    a.CurrentCount is { } count ? Number(count) : "-");
            }

            console.Write(latest);
        }
    }

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    private static string Minutes(int minutes) => minutes % 1440 == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{minutes / 1440} d ({minutes} min)")
        : string.Create(CultureInfo.InvariantCulture, $"{minutes} min");

    private static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
