using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using KmsFarm.Client;
using KmsFarm.Grains;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Hosting;
using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Tests;

/// <summary>The status API (/api/status, /api/clients, /api/activations), the admin token, event 12290 and the log format
/// on a single in-process node.</summary>
public sealed class StatusApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ClientProduct Windows11Pro => ClientCatalog.Default.FindByName("Windows 11 Pro")!;

    private static ClientProduct Office2016 => ClientCatalog.Default.Products.First(p => p.Group == ProductGroup.Office2013Plus && !p.IsServer);

    [Fact]
    public async Task Status_shows_each_group_like_slmgr_dlv_with_the_farms_totals_and_silos()
    {
        await using var node = await InProcessNode.StartAsync(cancellationToken: Ct);
        var answers = new List<KmsResponse>();
        for (int i = 0; i < 3; i++)
        {
            answers.Add(await ActivateAsync(node, Windows11Pro, $"PC-{i}", licenseStatus: 2));
        }

        answers.Add(await ActivateAsync(node, Office2016, "OFFICE-1", licenseStatus: 1));
        answers.Add(await ActivateAsync(node, Windows11Pro, "PC-3", licenseStatus: 1));
        uint refused = await RefusedAsync(node);

        using var json = JsonDocument.Parse(await node.Http.GetStringAsync("/api/status", Ct));
        var root = json.RootElement;
        Assert.Equal(["node", "generated", "farm", "groups", "totals", "silos", "silosError"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("test-node", root.GetProperty("node").GetString());
        Assert.Equal("sqlite", root.GetProperty("farm").GetProperty("store").GetString());
        Assert.Equal("kmsfarm", root.GetProperty("farm").GetProperty("clusterId").GetString());

        var groups = root.GetProperty("groups").EnumerateArray().ToDictionary(g => g.GetProperty("group").GetString()!);
        Assert.Equal(["Windows", "Office2010", "Office2013Plus"], groups.Keys);
        var windows = groups["Windows"];
        Assert.Equal("active", windows.GetProperty("state").GetString());
        Assert.Equal("test-node", windows.GetProperty("host").GetString());
        Assert.Equal(4, windows.GetProperty("currentCount").GetInt32());
        Assert.Equal(25, windows.GetProperty("threshold").GetInt32());
        Assert.Equal(50, windows.GetProperty("capacity").GetInt32());
        Assert.Equal(120, windows.GetProperty("activationIntervalMinutes").GetInt32());
        Assert.Equal(10080, windows.GetProperty("renewalIntervalMinutes").GetInt32());
        var windowsEpids = windows.GetProperty("csvlks").EnumerateArray().ToDictionary(c => c.GetProperty("id").GetString()!, c => c.GetProperty("epid").GetString()!);
        Assert.Equal(windowsEpids["WindowsServer2025"], windows.GetProperty("epid").GetString());
        Assert.Contains(answers[0].Epid, windowsEpids.Values);
        Assert.Equal(4, windows.GetProperty("requests").GetProperty("activated").GetInt64());

        var office = groups["Office2013Plus"];
        Assert.Equal(1, office.GetProperty("currentCount").GetInt32());
        Assert.Equal(5, office.GetProperty("threshold").GetInt32());
        Assert.Contains(answers[3].Epid, office.GetProperty("csvlks").EnumerateArray().Select(c => c.GetProperty("epid").GetString()));

        // Nobody asked for Office 2010: reported from the store, and not activated by the status call.
        var office2010 = groups["Office2010"];
        Assert.Equal("not activated", office2010.GetProperty("state").GetString());
        Assert.Equal(JsonValueKind.Null, office2010.GetProperty("host").ValueKind);
        Assert.Equal(0, office2010.GetProperty("currentCount").GetInt32());
        Assert.DoesNotContain(ProductGroup.Office2010, node.Services.GetRequiredService<LocalProductGroups>().Current);

        var totals = root.GetProperty("totals");
        Assert.Equal(6, totals.GetProperty("received").GetInt64());
        Assert.Equal(5, totals.GetProperty("activated").GetInt64());
        Assert.Equal(1, totals.GetProperty("failed").GetInt64());
        var byStatus = totals.GetProperty("byLicenseStatus");
        Assert.Equal(4, byStatus.GetProperty("oob_grace").GetInt64()); // 3 Windows + the refused one
        Assert.Equal(2, byStatus.GetProperty("licensed").GetInt64());
        Assert.NotEqual(0u, refused);

        var silo = Assert.Single(root.GetProperty("silos").EnumerateArray());
        Assert.Equal("Active", silo.GetProperty("status").GetString());
    }

    [Fact]
    public async Task A_status_call_on_a_fresh_node_activates_no_product_group()
    {
        await using var node = await InProcessNode.StartAsync(cancellationToken: Ct);
        using var json = JsonDocument.Parse(await node.Http.GetStringAsync("/api/status", Ct));
        Assert.All(json.RootElement.GetProperty("groups").EnumerateArray(), g => Assert.Equal("not activated", g.GetProperty("state").GetString()));
        Assert.Empty(node.Services.GetRequiredService<LocalProductGroups>().Current);
    }

    [Fact]
    public async Task Clients_and_activations_are_paged_and_filtered()
    {
        await using var node = await InProcessNode.StartAsync(cancellationToken: Ct);
        var start = DateTimeOffset.UtcNow.AddSeconds(-1);
        for (int i = 0; i < 5; i++)
        {
            await ActivateAsync(node, Windows11Pro, $"LAB-{i}", licenseStatus: 2);
        }

        await ActivateAsync(node, Office2016, "OFFICE-X", licenseStatus: 2);

        using (var page = await GetJsonAsync(node, "/api/clients?limit=2"))
        {
            Assert.Equal(["total", "offset", "limit", "items"], page.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.Equal(6, page.RootElement.GetProperty("total").GetInt64());
            var items = page.RootElement.GetProperty("items").EnumerateArray().ToArray();
            Assert.Equal(2, items.Length);
            Assert.Equal("OFFICE-X", items[0].GetProperty("machineName").GetString()); // most recently seen first
            Assert.Equal("oob_grace", items[0].GetProperty("licenseStatus").GetString());
        }

        using (var page = await GetJsonAsync(node, "/api/clients?group=windows&machine=lab-3"))
        {
            var client = Assert.Single(page.RootElement.GetProperty("items").EnumerateArray());
            Assert.Equal("LAB-3", client.GetProperty("machineName").GetString());
            Assert.Equal(ProductCatalog.Default.FindSku(Windows11Pro.SkuId.ToString())!.Name, client.GetProperty("product").GetString());
            Assert.Equal(1, client.GetProperty("activationCount").GetInt64());
        }

        using (var page = await GetJsonAsync(node, "/api/clients?offset=5&limit=10"))
        {
            Assert.Equal("LAB-0", Assert.Single(page.RootElement.GetProperty("items").EnumerateArray()).GetProperty("machineName").GetString());
        }

        var seen = new List<string>();
        string path = "/api/activations?limit=4&from=" + Uri.EscapeDataString(start.ToString("O"));
        while (true)
        {
            using var page = await GetJsonAsync(node, path);
            seen.AddRange(page.RootElement.GetProperty("items").EnumerateArray().Select(a => a.GetProperty("machineName").GetString()!));
            var next = page.RootElement.GetProperty("next");
            if (next.ValueKind == JsonValueKind.Null)
            {
                break;
            }

            path = "/api/activations?limit=4&before=" + next.GetInt64();
        }

        Assert.Equal(["OFFICE-X", "LAB-4", "LAB-3", "LAB-2", "LAB-1", "LAB-0"], seen);
        using (var page = await GetJsonAsync(node, "/api/activations?group=Office2013Plus"))
        {
            var row = Assert.Single(page.RootElement.GetProperty("items").EnumerateArray());
            Assert.True(row.GetProperty("activated").GetBoolean());
            Assert.Equal("0x00000000", row.GetProperty("result").GetString());
            Assert.Equal(1, row.GetProperty("currentCount").GetInt32());
        }

        using (var page = await GetJsonAsync(node, "/api/activations?from=" + Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"))))
        {
            Assert.Empty(page.RootElement.GetProperty("items").EnumerateArray());
        }

        foreach (string bad in new[] { "/api/clients?group=Linux", "/api/clients?limit=501", "/api/activations?from=yesterday", "/api/activations?before=x" })
        {
            var response = await node.Http.GetAsync(bad, Ct);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        }
    }

    [Fact]
    public async Task The_admin_token_guards_the_api_and_the_page_but_not_metrics_or_health()
    {
        string tokenFile = Path.Combine(Path.GetTempPath(), "kmsfarm-token-" + Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(tokenFile, "s3cret-token\n", Ct);
        try
        {
            await using var node = await InProcessNode.StartAsync(["--admin-token-file", tokenFile], cancellationToken: Ct);
            foreach (string path in new[] { "/api/status", "/api/nodes", "/api/clients", "/api/activations", "/API/status" })
            {
                var denied = await node.Http.GetAsync(path, Ct);
                Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
                Assert.Equal("Bearer", denied.Headers.WwwAuthenticate.Single().Scheme);
            }

            Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/metrics", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/healthz/ready", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await node.Http.GetAsync("/status/status.js", Ct)).StatusCode);

            using (var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/status"))
            {
                wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret-tokeN");
                Assert.Equal(HttpStatusCode.Unauthorized, (await node.Http.SendAsync(wrong, Ct)).StatusCode);
            }

            using (var right = new HttpRequestMessage(HttpMethod.Get, "/api/status"))
            {
                right.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "s3cret-token");
                Assert.Equal(HttpStatusCode.OK, (await node.Http.SendAsync(right, Ct)).StatusCode);
            }

            var page = await node.Http.GetAsync("/status", Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, page.StatusCode);
            string login = await page.Content.ReadAsStringAsync(Ct);
            Assert.Contains("action=\"/status/login\"", login, StringComparison.Ordinal);
            Assert.DoesNotContain("/api/status", login, StringComparison.Ordinal);

            var bad = await node.Http.PostAsync("/status/login", new FormUrlEncodedContent([new("token", "guess")]), Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, bad.StatusCode);
            Assert.False(bad.Headers.Contains("Set-Cookie"));

            using var noRedirects = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = node.Http.BaseAddress };
            var ok = await noRedirects.PostAsync("/status/login", new FormUrlEncodedContent([new("token", "s3cret-token")]), Ct);
            Assert.Equal(HttpStatusCode.SeeOther, ok.StatusCode);
            string cookie = ok.Headers.GetValues("Set-Cookie").Single();
            Assert.StartsWith("kmsfarm-admin=", cookie, StringComparison.Ordinal);
            Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("s3cret", cookie, StringComparison.Ordinal);

            foreach (string path in new[] { "/status", "/api/status" })
            {
                using var withCookie = new HttpRequestMessage(HttpMethod.Get, path);
                withCookie.Headers.Add("Cookie", cookie.Split(';')[0]);
                Assert.Equal(HttpStatusCode.OK, (await noRedirects.SendAsync(withCookie, Ct)).StatusCode);
            }
        }
        finally
        {
            File.Delete(tokenFile);
        }
    }

    [Fact]
    public async Task Without_a_token_the_page_and_the_api_are_open_and_the_page_has_no_external_asset()
    {
        await using var node = await InProcessNode.StartAsync(cancellationToken: Ct);
        var page = await node.Http.GetAsync("/status", Ct);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        string html = await page.Content.ReadAsStringAsync(Ct);
        Assert.DoesNotContain("http://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("missing")]
    [InlineData("empty")]
    public void A_token_file_that_cannot_be_used_stops_start_up_naming_the_flag(string problem)
    {
        string file = Path.Combine(Path.GetTempPath(), "kmsfarm-token-" + Guid.NewGuid().ToString("N"));
        if (problem == "empty")
        {
            File.WriteAllText(file, " \n");
        }

        try
        {
            var ex = Assert.Throws<NodeConfigurationException>(() => NodeApplication.Create(["--admin-token-file", file]));
            Assert.Contains("--admin-token-file", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task Log_format_json_selects_the_json_console_formatter_and_an_unknown_format_stops_start_up()
    {
        await using (var app = NodeApplication.Create(["--log-format", "json", "--store", "sqlite:" + Path.Combine(Path.GetTempPath(), Guid.NewGuid() + ".db")]))
        {
            Assert.Equal("json", app.Services.GetRequiredService<IOptionsMonitor<ConsoleLoggerOptions>>().CurrentValue.FormatterName);
        }

        var ex = Assert.Throws<NodeConfigurationException>(() => NodeApplication.Create(["--log-format", "xml"]));
        Assert.Contains("--log-format", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Event_12290_is_off_by_default_and_the_rest_of_the_node_still_logs()
    {
        // No provider-specific filter: the node's own settings decide, as they do for the console.
        var logs = new CapturingLoggerProvider();
        await using var node = await InProcessNode.StartAsync(configure: b => b.Logging.AddProvider(logs), cancellationToken: Ct);
        await ActivateAsync(node, Windows11Pro, "QUIET-PC", licenseStatus: 2);
        await RefusedAsync(node);

        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == 12290);
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains("QUIET-PC", StringComparison.Ordinal));
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Information);
        Assert.DoesNotContain(logs.Entries, e => e.Level < LogLevel.Information);
    }

    [Fact]
    public async Task Every_answered_request_logs_event_12290_with_machine_name_and_time_but_no_cmid()
    {
        var logs = new CapturingLoggerProvider();
        await using var node = await InProcessNode.StartAsync(["--request-log", "Information"], configure: b =>
        {
            b.Logging.AddProvider(logs);
            b.Logging.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace);
        }, cancellationToken: Ct);
        var cmid = Guid.NewGuid();
        await ActivateAsync(node, Windows11Pro, "EVENTLOG-PC", licenseStatus: 2, cmid: cmid);
        await RefusedAsync(node);

        var events = logs.Entries.Where(e => e.EventId.Id == 12290).ToArray();
        Assert.Equal(2, events.Length);
        Assert.All(events, e => Assert.Equal(LogLevel.Information, e.Level));
        Assert.All(events, e => Assert.Equal("RequestProcessed", e.EventId.Name));
        Assert.All(events, e => Assert.Equal("KmsFarm.RequestLog", e.Category));
        Assert.Contains("result 0x00000000, count 1, client EVENTLOG-PC (127.0.0.1)", events[0].Message, StringComparison.Ordinal);
        Assert.Contains("client time 20", events[0].Message, StringComparison.Ordinal);
        Assert.Contains("result 0xC004F042", events[1].Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Entries, e => e.Level > LogLevel.Debug && e.Message.Contains(cmid.ToString(), StringComparison.OrdinalIgnoreCase));
        Assert.Contains(logs.Entries, e => e.Level == LogLevel.Debug && e.Message.Contains(cmid.ToString(), StringComparison.OrdinalIgnoreCase));
    }

    internal static async Task<KmsResponse> ActivateAsync(InProcessNode node, ClientProduct product, string machineName, uint licenseStatus, Guid? cmid = default)
    {
        var machine = new KmsClientMachine(cmid ?? Guid.NewGuid(), machineName, product);
        await using var connection = await KmsClientConnection.ConnectAsync("127.0.0.1", node.KmsEndPoint.Port, null, Ct);
        var result = await connection.ActivateAsync(product.DefaultProtocol, machine.CreateRequest(product.DefaultProtocol, DateTime.UtcNow, licenseStatus), Ct);
        Assert.True(result.Succeeded, $"0x{result.HResult:X8}");
        return result.Response!;
    }

    /// <summary>A request for a retail Windows product, which a host refuses with 0xC004F042.</summary>
    private static async Task<uint> RefusedAsync(InProcessNode node)
    {
        var retail = ProductCatalog.Default.Products.First(p => p.IsRetail && p.Group == ProductGroup.Windows);
        var product = Windows11Pro with { KmsCountedId = retail.Id, Name = "retail" };
        var machine = new KmsClientMachine(Guid.NewGuid(), "RETAIL-PC", product);
        await using var connection = await KmsClientConnection.ConnectAsync("127.0.0.1", node.KmsEndPoint.Port, null, Ct);
        var result = await connection.ActivateAsync(product.DefaultProtocol, machine.CreateRequest(product.DefaultProtocol, DateTime.UtcNow, 2), Ct);
        Assert.False(result.Succeeded);
        return result.HResult;
    }

    private static async Task<JsonDocument> GetJsonAsync(InProcessNode node, string path)
    {
        var response = await node.Http.GetAsync(path, Ct);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(Ct)}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
    }
}
