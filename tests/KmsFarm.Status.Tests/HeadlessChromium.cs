using Microsoft.Playwright;

namespace KmsFarm.Status.Tests;

/// <summary>A real headless browser: Debian's <c>chromium</c> package (<c>/usr/bin/chromium</c>, or
/// <c>KMSFARM_CHROMIUM</c>) driven by Playwright over its DevTools pipe. Playwright's own browser download is never used
/// (tests/run-all.sh installs the package). Runs as root, so without the sandbox.</summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    public const string DefaultPath = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;

    private HeadlessChromium(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        Browser = browser;
    }

    public IBrowser Browser { get; }

    public static string ExecutablePath => Environment.GetEnvironmentVariable("KMSFARM_CHROMIUM") is { Length: > 0 } path ? path : DefaultPath;

    public static async Task<HeadlessChromium> LaunchAsync()
    {
        Assert.True(File.Exists(ExecutablePath),
            $"{ExecutablePath} is missing: install Debian's chromium package (tests/run-all.sh does), or set KMSFARM_CHROMIUM.");
        var playwright = await Playwright.CreateAsync();
        try
        {
            var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = ExecutablePath,
                Headless = true,
                ChromiumSandbox = false,
                Args = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"],
                Timeout = 60_000,
            });
            return new HeadlessChromium(playwright, browser);
        }
        catch
        {
            playwright.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}
