using System.CommandLine;
using System.Text.Json;
using KmsFarm.Client.Cli;

namespace KmsFarm.Client.Tests;

/// <summary>Windows 10 and 11 share SKU ids: a product asked for by a Windows 11 name must not report itself as Windows 10,
/// and listing or filtering by either name (or a short alias) finds it.</summary>
public sealed class ProductNamingTests
{
    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var config = new InvocationConfiguration { Output = output, Error = error };
        int code = await ClientCli.CreateRootCommand(ClientCatalog.Default).Parse(args).InvokeAsync(config, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    [Theory]
    [InlineData("Windows 11 Pro", "Windows 10/11 Pro")]
    [InlineData("win11-pro", "Windows 10/11 Pro")]
    [InlineData("Windows 10 Professional", "Windows 10/11 Pro")]
    [InlineData("Windows 11 Enterprise", "Windows 10/11 Enterprise")]
    [InlineData("win11-edu", "Windows 10/11 Education")]
    [InlineData("Windows 11 Pro N", "Windows 10/11 Pro N")]
    [InlineData("Windows 11 Enterprise LTSC 2024", "Windows 10/11 Enterprise LTSC 2019/2021/2024")]
    public void A_shared_sku_is_named_for_both_versions(string asked, string name) =>
        Assert.Equal(name, ClientCatalog.Default.FindByName(asked)?.Name);

    /// <summary>The whole kind: every spelling that names Windows 11 finds a product whose name says 11 too.</summary>
    [Fact]
    public void No_product_found_by_a_windows_11_name_reports_only_windows_10()
    {
        var misnamed = ClientCatalog.Default.Products
            .Where(p => p.Aliases.Any(a => a.Contains("Windows 11", StringComparison.OrdinalIgnoreCase) || a.StartsWith("win11", StringComparison.OrdinalIgnoreCase)))
            .Where(p => !p.Name.Contains("11", StringComparison.Ordinal))
            .Select(p => p.Name)
            .ToArray();
        Assert.Empty(misnamed);
    }

    [Fact]
    public async Task Activate_with_a_windows_11_name_prints_the_shared_name()
    {
        await using var server = new TestKmsServer();

        var (code, output, _) = await RunAsync("activate", "--host", server.HostPort, "--product", "Windows 11 Pro");

        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("Windows 10/11 Pro", output, StringComparison.Ordinal);
        Assert.DoesNotContain("Windows 10 Professional", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Windows 11")]
    [InlineData("win11")]
    [InlineData("windows 11 pro")]
    [InlineData("Windows 10 Professional")]
    public async Task Filter_finds_windows_11_pro_by_name_or_alias(string filter)
    {
        var (code, output, _) = await RunAsync("products", "--filter", filter, "--json");

        Assert.Equal(ExitCodes.Success, code);
        using var json = JsonDocument.Parse(output);
        Assert.Contains(json.RootElement.EnumerateArray(), p => p.GetProperty("name").GetString() == "Windows 10/11 Pro");
    }
}
