using System.Globalization;
using System.Text.Json;
using KmsFarm.Client;
using KmsFarm.Client.Cli;
using KmsFarm.Protocol.Catalog;
using KmsFarm.TestKit;
using Microsoft.Playwright;

namespace KmsFarm.Status.Tests;

/// <summary>The node's status page in a real headless browser (Debian's chromium through Playwright), the node running
/// as its own process: the page shows the counts of a node that activated clients, and asks for the admin token when one
/// is configured. Alongside, on the same process: <c>kmsfarm-client status</c> and the JSON console log with event
/// 12290. Each test saves a screenshot and the rendered DOM under the test output's <c>artifacts/</c>.</summary>
[Trait("Category", "Browser")]
public sealed class StatusPageBrowserTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ClientProduct Windows11Pro => ClientCatalog.Default.FindByName("Windows 11 Pro")!;

    private static ClientProduct Office2016 => ClientCatalog.Default.Products.First(p => p.Group == ProductGroup.Office2013Plus && !p.IsServer);

    [Fact]
    public async Task The_page_shows_the_counts_of_a_node_that_activated_clients()
    {
        await using var node = await NodeProcess.StartAsync("page-node", ["--log-format", "json", "--log-level", "Information", "--request-log", "Information"], Ct);
        for (int i = 0; i < 3; i++)
        {
            await ActivateAsync(node, Windows11Pro, $"PAGE-PC-{i}");
        }

        await ActivateAsync(node, Office2016, "<b>NOT-BOLD</b>");

        await using var chromium = await HeadlessChromium.LaunchAsync();
        var page = await chromium.Browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1600, Height = 1000 } });
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };
        var requests = new List<string>();
        page.Request += (_, request) => requests.Add(request.Url);
        page.Response += (_, r) =>
        {
            if (r.Status >= 400)
            {
                errors.Add($"{r.Status} {r.Url}");
            }
        };

        var response = await page.GotoAsync(new Uri(node.BaseUri, "status").ToString());
        Assert.Equal(200, response!.Status);
        await page.WaitForSelectorAsync("body[data-loaded='true']", new PageWaitForSelectorOptions { Timeout = 30_000 });
        await SaveAsync(page, "status-page");

        Assert.Equal("3", await page.InnerTextAsync("tr[data-group='Windows'] td.count"));
        Assert.Equal("25", await page.InnerTextAsync("tr[data-group='Windows'] td.threshold"));
        Assert.Equal("50", await page.InnerTextAsync("tr[data-group='Windows'] td.capacity"));
        Assert.Equal("active", await page.InnerTextAsync("tr[data-group='Windows'] td.state"));
        Assert.Matches(@"^\d{5}-\d{5}-\d{3}-\d{6}-03-1033-26100\.0000-\d{7}$", await page.InnerTextAsync("tr[data-group='Windows'] td.epid"));
        Assert.Equal("1", await page.InnerTextAsync("tr[data-group='Office2013Plus'] td.count"));
        Assert.Equal("not activated", await page.InnerTextAsync("tr[data-group='Office2010'] td.state"));
        Assert.Equal("4", await page.InnerTextAsync("#totals td.received"));
        Assert.Equal("Active", await page.InnerTextAsync("tr[data-silo='page-node'] td.status"));
        var machines = await page.Locator("#activations td.machine").AllInnerTextsAsync();
        Assert.Equal(["<b>NOT-BOLD</b>", "PAGE-PC-2", "PAGE-PC-1", "PAGE-PC-0"], machines);
        Assert.Equal(0, await page.Locator("#activations b").CountAsync()); // a client's machine name is text, never markup
        Assert.Empty(errors);
        Assert.All(requests, url => Assert.StartsWith(node.BaseUri.ToString(), url, StringComparison.Ordinal)); // no external asset

        // The page refreshes by itself: a new client shows up without a reload.
        await ActivateAsync(node, Windows11Pro, "PAGE-PC-3");
        await page.WaitForFunctionAsync(
            "() => document.querySelector(\"tr[data-group='Windows'] td.count\").textContent === '4'", null,
            new PageWaitForFunctionOptions { Timeout = 15_000 });

        // The same process logged event 12290 for every request, as JSON lines.
        var events = node.Lines.Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement)
            .Where(e => e.GetProperty("EventId").GetInt32() == 12290).ToArray();
        Assert.Equal(5, events.Length);
        Assert.All(events, e => Assert.Equal("Information", e.GetProperty("LogLevel").GetString()));
        Assert.Equal("PAGE-PC-0", events[0].GetProperty("State").GetProperty("MachineName").GetString());
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", events[0].GetProperty("State").GetProperty("ClientTime").GetString()!);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", events[0].GetProperty("Timestamp").GetString()!);
    }

    [Fact]
    public async Task With_an_admin_token_the_page_asks_for_it_before_it_shows_anything()
    {
        string tokenFile = Path.Combine(Path.GetTempPath(), "kmsfarm-token-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(tokenFile, "lab-admin-7f3c\n", Ct);
        try
        {
            await using var node = await NodeProcess.StartAsync("token-node", ["--admin-token-file", tokenFile, "--log-level", "Warning"], Ct);
            await ActivateAsync(node, Windows11Pro, "TOKEN-PC");
            await using var chromium = await HeadlessChromium.LaunchAsync();
            var context = await chromium.Browser.NewContextAsync();
            var page = await context.NewPageAsync();

            var first = await page.GotoAsync(new Uri(node.BaseUri, "status").ToString());
            Assert.Equal(401, first!.Status);
            Assert.Equal(0, await page.Locator("#groups").CountAsync());
            Assert.DoesNotContain("TOKEN-PC", await page.ContentAsync(), StringComparison.Ordinal);
            var api = await page.APIRequest.GetAsync(new Uri(node.BaseUri, "api/status").ToString());
            Assert.Equal(401, api.Status);
            var metrics = await page.APIRequest.GetAsync(new Uri(node.BaseUri, "metrics").ToString());
            Assert.Equal(200, metrics.Status);
            await SaveAsync(page, "status-login");

            await page.FillAsync("#token", "wrong");
            await page.ClickAsync("#login");
            await page.WaitForSelectorAsync("#error");
            Assert.Equal(0, await page.Locator("#groups").CountAsync());

            await page.FillAsync("#token", "lab-admin-7f3c");
            await page.ClickAsync("#login");
            await page.WaitForSelectorAsync("body[data-loaded='true']", new PageWaitForSelectorOptions { Timeout = 30_000 });
            Assert.EndsWith("/status", page.Url, StringComparison.Ordinal);
            Assert.Equal("1", await page.InnerTextAsync("tr[data-group='Windows'] td.count"));
            Assert.Equal("TOKEN-PC", await page.InnerTextAsync("#activations td.machine"));
            var cookie = Assert.Single(await context.CookiesAsync());
            Assert.True(cookie.HttpOnly);
            Assert.DoesNotContain("lab-admin", cookie.Value, StringComparison.Ordinal);
            await SaveAsync(page, "status-after-login");
        }
        finally
        {
            File.Delete(tokenFile);
        }
    }

    [Fact]
    public async Task Client_status_prints_the_nodes_view_as_tables_and_needs_the_token_when_the_node_does()
    {
        string tokenFile = Path.Combine(Path.GetTempPath(), "kmsfarm-token-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(tokenFile, "cli-token\n", Ct);
        try
        {
            await using var node = await NodeProcess.StartAsync("cli-node", ["--admin-token-file", tokenFile, "--log-level", "Warning"], Ct);
            for (int i = 0; i < 2; i++)
            {
                await ActivateAsync(node, Windows11Pro, $"CLI-PC-{i}");
            }

            var (exit, _, error) = await RunClientAsync("status", "--host", node.HttpEndPoint.ToString());
            Assert.Equal(ExitCodes.Unauthorized, exit);
            Assert.Contains("--token-file", error, StringComparison.Ordinal);

            (exit, string output, error) = await RunClientAsync("status", "--host", node.HttpEndPoint.ToString(), "--token-file", tokenFile, "--activations", "5");
            Assert.True(exit == ExitCodes.Success, error);
            TestContext.Current.TestOutputHelper?.WriteLine(output);
            await File.WriteAllTextAsync(Path.Combine(ArtifactsDirectory, "kmsfarm-client-status.txt"), output, Ct);
            Assert.Contains("answered by node cli-node", output, StringComparison.Ordinal);
            Assert.Matches(@"│ Windows +│ active +│ cli-node +│ +2 │ +25 │ +50 │ 120 min +│ 7 d \(10080 min\) +│ +2 │ +0 │", output);
            Assert.Matches(@"│ Office 2010 +│ not activated +│ - +│ +0 │", output);
            Assert.Matches(@"│ Windows +│ WindowsServer2025 +│ \d{5}-", output);
            Assert.Contains("CLI-PC-1", output, StringComparison.Ordinal);
            Assert.Matches(@"│ cli-node +│ 127\.0\.0\.1:\d+ +│ .+ │ Active +│", output);

            (exit, output, _) = await RunClientAsync("status", "--host", "http://" + node.HttpEndPoint, "--token-file", tokenFile, "--json");
            Assert.Equal(ExitCodes.Success, exit);
            using var json = JsonDocument.Parse(output);
            Assert.Equal(2, json.RootElement.GetProperty("totals").GetProperty("activated").GetInt64());
        }
        finally
        {
            File.Delete(tokenFile);
        }
    }

    private static string ArtifactsDirectory
    {
        get
        {
            string directory = Path.Combine(AppContext.BaseDirectory, "artifacts");
            Directory.CreateDirectory(directory);
            return directory;
        }
    }

    /// <summary>A screenshot and the rendered DOM, for a person to look at after the run.</summary>
    private static async Task SaveAsync(IPage page, string name)
    {
        string png = Path.Combine(ArtifactsDirectory, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = png, FullPage = true });
        await File.WriteAllTextAsync(Path.Combine(ArtifactsDirectory, name + ".html"), await page.ContentAsync(), Ct);
        TestContext.Current.TestOutputHelper?.WriteLine($"saved {png}");
    }

    private static async Task ActivateAsync(NodeProcess node, ClientProduct product, string machineName)
    {
        var machine = new KmsClientMachine(Guid.NewGuid(), machineName, product);
        await using var connection = await KmsClientConnection.ConnectAsync("127.0.0.1", node.KmsEndPoint.Port, null, Ct);
        var result = await connection.ActivateAsync(product.DefaultProtocol, machine.CreateRequest(product.DefaultProtocol, DateTime.UtcNow), Ct);
        Assert.True(result.Succeeded, string.Create(CultureInfo.InvariantCulture, $"0x{result.HResult:X8}"));
    }

    private static async Task<(int Exit, string Output, string Error)> RunClientAsync(params string[] args)
    {
        var output = new StringWriter(CultureInfo.InvariantCulture);
        var error = new StringWriter(CultureInfo.InvariantCulture);
        int exit = await ClientCli.CreateRootCommand(ClientCatalog.Default).Parse(args)
            .InvokeAsync(new System.CommandLine.InvocationConfiguration { Output = output, Error = error }, Ct);
        return (exit, output.ToString(), error.ToString());
    }
}
