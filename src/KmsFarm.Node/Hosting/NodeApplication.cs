using KmsFarm.Node.Configuration;
using KmsFarm.Node.Status;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Hosting;

/// <summary>Builds the node's <see cref="WebApplication"/>: Program.cs and the in-process test fixture share this.</summary>
public static class NodeApplication
{
    /// <summary>Creates a configured, not yet started node. <paramref name="configure"/> runs after the node's own
    /// registrations (tests replace services there). Throws <see cref="NodeConfigurationException"/> on a bad setting.</summary>
    public static WebApplication Create(IReadOnlyList<string> args, Action<WebApplicationBuilder>? configure = null, string? contentRoot = null)
    {
        // The flags are ours to parse (repeatable flags, unknown ones rejected), so the stock command-line source is not used.
        // appsettings.json is read from beside the executable, not from the working directory (which holds the default
        // SQLite file), so a node started from anywhere gets its shipped settings.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [], ContentRootPath = contentRoot ?? AppContext.BaseDirectory });
        builder.AddKmsFarmNode(args);
        configure?.Invoke(builder);
        var app = builder.Build();
        app.MapKmsFarmHealth();
        app.MapKmsFarmStatus();
        app.MapKmsFarmMetrics();
        return app;
    }

    /// <summary>Runs a node until it is stopped; returns the process exit code (2 for a configuration error).</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter error)
    {
        try
        {
            await using var app = Create(args);
            await app.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (NodeConfigurationException ex)
        {
            await error.WriteLineAsync(ex.Message).ConfigureAwait(false);
            return 2;
        }
        catch (OptionsValidationException ex)
        {
            await error.WriteLineAsync("Invalid configuration: " + string.Join("; ", ex.Failures)).ConfigureAwait(false);
            return 2;
        }
    }
}
