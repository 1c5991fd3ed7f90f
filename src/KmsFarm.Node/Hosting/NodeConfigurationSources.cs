using System.Text.Json;
using KmsFarm.Node.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Configuration.Memory;

namespace KmsFarm.Node.Hosting;

/// <summary>Where the node's settings come from, lowest priority first: the logging defaults below; appsettings.json
/// beside the executable (the shipped settings); appsettings.json in the working directory; the file named by
/// <c>--config</c> (or <c>KmsFarm__ConfigFile</c>); the environment (<c>KmsFarm__…</c>); the command-line flags.
/// Relative paths in settings (the SQLite file, <c>--catalog</c>, <c>--config</c>, the TSIG key file) are relative to
/// the working directory.</summary>
internal static class NodeConfigurationSources
{
    /// <summary>Libraries log at Warning unless asked otherwise (Npgsql would log every SQL command at Information, about
    /// 100 000 lines in 10 s of load, and its membership queries when idle; Polly each placement retry of Orleans); the node's own lines at Information, per-request lines at Debug, event 12290 (the request log) off unless --request-log
    /// Information. The host's
    /// "Hosting failed to start" is left to the node, which reports a start-up failure as one line (see
    /// <see cref="NodeApplication.RunAsync"/>).</summary>
    public static readonly IReadOnlyDictionary<string, string?> LoggingDefaults = new Dictionary<string, string?>
    {
        ["Logging:LogLevel:Default"] = "Information",
        ["Logging:LogLevel:Microsoft"] = "Warning",
        ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
        ["Logging:LogLevel:Microsoft.Extensions.Hosting.Internal.Host"] = "Critical",
        ["Logging:LogLevel:System"] = "Warning",
        ["Logging:LogLevel:Orleans"] = "Warning",
        ["Logging:LogLevel:Npgsql"] = "Warning",
        ["Logging:LogLevel:Polly"] = "Warning",
        ["Logging:LogLevel:" + CommandLineFlags.RequestLogCategory] = "None",
    };

    /// <summary>Adds the sources around the builder's own (its appsettings.json and environment) and the flags on top.
    /// Throws <see cref="NodeConfigurationException"/> naming a settings file that is missing or not valid JSON.</summary>
    public static void Add(ConfigurationManager configuration, IReadOnlyList<KeyValuePair<string, string?>> flags)
    {
        configuration.Sources.Insert(0, new MemoryConfigurationSource { InitialData = LoggingDefaults });

        // After the builder's last JSON file (appsettings.{Environment}.json), before the environment.
        int at = configuration.Sources.ToList().FindLastIndex(s => s is JsonConfigurationSource) + 1;
        string workingDirectoryFile = Path.Combine(Environment.CurrentDirectory, "appsettings.json");
        bool isShipped = string.Equals(Path.GetFullPath(workingDirectoryFile), Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "appsettings.json")),
            StringComparison.Ordinal);
        if (!isShipped && File.Exists(workingDirectoryFile))
        {
            Insert(configuration, at++, workingDirectoryFile, "appsettings.json in the working directory");
        }

        string? configFile = flags.LastOrDefault(p => p.Key == CommandLineFlags.ConfigFileKey).Value ?? configuration[CommandLineFlags.ConfigFileKey];
        if (!string.IsNullOrWhiteSpace(configFile))
        {
            string path = Path.GetFullPath(configFile);
            if (!File.Exists(path))
            {
                throw new NodeConfigurationException($"{CommandLineFlags.ConfigFileKey} (--config) '{configFile}' does not exist ({path}).");
            }

            Insert(configuration, at, path, $"{CommandLineFlags.ConfigFileKey} (--config) '{configFile}'");
        }

        configuration.AddInMemoryCollection(flags);
    }

    private static void Insert(ConfigurationManager configuration, int index, string path, string what)
    {
        var source = new JsonConfigurationSource { Path = path, Optional = false, ReloadOnChange = false };
        source.ResolveFileProvider();
        try
        {
            configuration.Sources.Insert(index, source);
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or JsonException or IOException)
        {
            string reason = (ex.InnerException ?? ex).Message.ReplaceLineEndings(" ");
            throw new NodeConfigurationException($"{what} is not a valid settings file: {reason}", ex);
        }
    }
}
