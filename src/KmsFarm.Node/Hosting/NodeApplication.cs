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

    /// <summary>Runs a node until it is stopped; returns the process exit code: 0 after a normal stop, 2 for a bad setting,
    /// 1 when the machine or the database refuses a valid one (a port in use, a database that does not exist). Those are
    /// reported as one line each on <paramref name="error"/>, never as a stack trace; anything else is a bug and is
    /// printed whole.</summary>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter error)
    {
        try
        {
            await using var app = Create(args);
            await app.RunAsync().ConfigureAwait(false);
            return 0;
        }
        catch (Exception ex) when (Known(ex) is { } known)
        {
            await error.WriteLineAsync(known.Message).ConfigureAwait(false);
            return known.ExitCode;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            await error.WriteLineAsync("KmsFarm node failed (a bug; please report it with this text): " + ex).ConfigureAwait(false);
            return 70;
        }
    }

    private static (string Message, int ExitCode)? Known(Exception ex) => ex switch
    {
        NodeConfigurationException e => (e.Message, 2),
        OptionsValidationException e => (string.Join(Environment.NewLine, e.Failures), 2),
        NodeStartupException e => (e.Message, 1),
        IOException or UnauthorizedAccessException or NotSupportedException => ("KmsFarm node failed to start: " + ex.Message, 1),

        // Stopped (Ctrl+C, SIGTERM) while start-up still waited, e.g. for the database: a requested stop, not a failure.
        OperationCanceledException => ("KmsFarm node stopped before it finished starting.", 0),
        AggregateException { InnerExceptions: [var single] } => Known(single),
        AggregateException e when e.InnerExceptions.Select(Known).FirstOrDefault(k => k is not null) is { } first => first,
        _ => null,
    };
}