using Microsoft.Extensions.Logging.Console;

namespace KmsFarm.Node.Configuration;

/// <summary>The console log format (<c>--log-format</c>), the standard <c>Logging:Console:FormatterName</c> key of
/// Microsoft.Extensions.Logging, so appsettings.json and <c>Logging__Console__FormatterName</c> work as well. The console
/// logger would quietly fall back to <c>simple</c> on a name it does not know; the node refuses to start instead.</summary>
public static class LogFormat
{
    public const string Key = "Logging:Console:FormatterName";

    public static readonly IReadOnlyList<string> Known = ["simple", "json", "systemd"];

    /// <summary>Makes the console use the configured format. The slim host builder adds the console with the simple
    /// format set in code, which would win over the configuration key; this puts the key back on top. The JSON format
    /// gets a UTC ISO 8601 timestamp unless its options (<c>Logging:Console:FormatterOptions</c>) name one.</summary>
    public static void Apply(IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        string? name = builder.Configuration[Key];
        if (string.IsNullOrEmpty(name))
        {
            return;
        }

        builder.Services.PostConfigure<ConsoleLoggerOptions>(options => options.FormatterName = name.ToLowerInvariant());
        builder.Services.PostConfigure<JsonConsoleFormatterOptions>(options =>
        {
            if (options.TimestampFormat is null)
            {
                options.TimestampFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
                options.UseUtcTimestamp = true;
            }
        });
    }

    /// <summary>The failure message for an unknown format, or null.</summary>
    public static string? Check(IConfiguration configuration)
    {
        string? name = configuration[Key];
        return string.IsNullOrEmpty(name) || Known.Contains(name, StringComparer.OrdinalIgnoreCase)
            ? null
            : $"{Key} (--log-format) '{name}' is not a console log format; use one of {string.Join(", ", Known)}.";
    }
}
