using System.Globalization;

namespace KmsFarm.Node.Configuration;

/// <summary>Turns command-line flags into configuration keys, so every flag is also an appsettings/environment setting
/// (<c>--kms-endpoint</c> is <c>KmsFarm:Listener:KmsEndpoints:N</c>, i.e. <c>KmsFarm__Listener__KmsEndpoints__0</c>).
/// Written by hand rather than with the stock command-line provider because repeatable flags need indexed keys and an
/// unknown flag must stop start-up instead of being ignored.</summary>
public static class CommandLineFlags
{
    /// <summary>The log category of event 12290 (see <c>ActivationService.RequestLogCategory</c>).</summary>
    public const string RequestLogCategory = "KmsFarm.RequestLog";

    /// <summary>Flag → (configuration key, repeatable, help).</summary>
    public static readonly IReadOnlyDictionary<string, Flag> Flags = new Dictionary<string, Flag>(StringComparer.Ordinal)
    {
        ["--kms-endpoint"] = new("KmsFarm:Listener:KmsEndpoints", true, "HOST:PORT to serve KMS on (repeatable; default 0.0.0.0:1688 and [::]:1688)"),
        ["--http-endpoint"] = new("KmsFarm:Listener:HttpEndpoint", false, "HOST:PORT for /healthz (default 127.0.0.1:8688)"),
        ["--max-connections"] = new("KmsFarm:Listener:MaxConnections", false, "concurrent KMS connections (default 1000)"),
        ["--idle-timeout"] = new("KmsFarm:Listener:IdleTimeout", false, "seconds (or hh:mm:ss) without a complete PDU before closing (default 30)"),
        ["--max-connections-per-source"] = new("KmsFarm:Listener:MaxConnectionsPerSource", false, "concurrent KMS connections from one address (default 64)"),
        ["--handshake-timeout"] = new("KmsFarm:Listener:HandshakeTimeout", false, "seconds (or hh:mm:ss) a new connection has to complete its RPC bind (default 5)"),
        ["--connection-lifetime"] = new("KmsFarm:Listener:ConnectionLifetime", false, "seconds (or hh:mm:ss) after which a connection is closed between requests (default 300)"),
        ["--request-rate"] = new("KmsFarm:Listener:RequestRate", false, "activation requests per second per address, sustained; 0 turns the limit off (default 100)"),
        ["--request-burst"] = new("KmsFarm:Listener:RequestBurst", false, "activation requests one address may send back to back (default 1000)"),
        ["--max-fragment-length"] = new("KmsFarm:Listener:MaxFragmentLength", false, "largest RPC PDU accepted, bytes (default 5840)"),
        ["--allow"] = new("KmsFarm:Access:Allow", true, "CIDR allowed to connect (repeatable; default private ranges and loopback)"),
        ["--deny"] = new("KmsFarm:Access:Deny", true, "CIDR refused (repeatable; wins over --allow)"),
        ["--store"] = new("KmsFarm:Store:Location", false, "sqlite:PATH or postgres:CONNECTION-STRING (default sqlite:kmsfarm.db)"),
        ["--durability"] = new("KmsFarm:Store:Durability", false, "process|fsync: answer once the database has the write, or once it is flushed to disk (default process)"),
        ["--history-retention"] = new("KmsFarm:Store:HistoryRetention", false, "days the activation history is kept; older records are deleted in the background, farm-wide once per purge interval (default 90; 0 keeps it for ever)"),
        ["--history-purge-interval"] = new("KmsFarm:Store:HistoryPurgeInterval", false, "seconds (or d.hh:mm:ss) between two prunings of the history (default 1 day)"),
        ["--cluster-id"] = new("KmsFarm:Cluster:ClusterId", false, "the farm's cluster id: nodes sharing a database and cluster id form one farm (default kmsfarm)"),
        ["--silo-port"] = new("KmsFarm:Cluster:SiloPort", false, "silo-to-silo TCP port (default 11111; two nodes on one machine need different ones)"),
        ["--gateway-port"] = new("KmsFarm:Cluster:GatewayPort", false, "Orleans client gateway TCP port (default: no gateway)"),
        ["--advertised-address"] = new("KmsFarm:Cluster:AdvertisedAddress", false, "IP address other silos reach this one at (default: 127.0.0.1 for sqlite, else the first non-loopback IPv4)"),
        ["--node-name"] = new("KmsFarm:Node:Name", false, "name recorded with activations (default machine name)"),
        ["--catalog"] = new("KmsFarm:Node:CatalogPath", false, "catalog file replacing the built-in one"),
        ["--activation-interval"] = new("KmsFarm:Activation:ActivationIntervalMinutes", false, "VL activation interval, minutes (default 120, 15..43200)"),
        ["--renewal-interval"] = new("KmsFarm:Activation:RenewalIntervalMinutes", false, "VL renewal interval, minutes (default 10080, 15..43200)"),
        ["--minimum-count"] = new(MinimumCountKey, true, "GROUP=N: a lab floor for the count reported to clients of a product group (Windows, Office2010, Office2013Plus), so a lab activates its first clients without 25 machines; never above what the group's cache holds (Windows 50, Office 10) (repeatable; default none)"),
        ["--host-build"] = new("KmsFarm:Node:HostBuild", false, "Windows build of the KMS host a new farm claims (6002, 7601, 9200, 9600, 14393, 17763, 20348 or 26100; default 26100); it decides NDR64, and a CSVLK newer than it claims the oldest build it can be installed on"),
        ["--dns-publish"] = new("KmsFarm:Dns:Publish", true, "DOMAIN[:PRIORITY:WEIGHT] to publish the _vlmcs._tcp SRV record in (repeatable; default none)"),
        ["--dns-server"] = new("KmsFarm:Dns:Server", false, "HOST[:PORT] of the DNS server that takes the updates (port 53 unless given)"),
        ["--dns-tsig-key-file"] = new("KmsFarm:Dns:TsigKeyFile", false, "BIND key file (tsig-keygen -a hmac-sha256 NAME) that signs the updates (default unsigned)"),
        ["--dns-host-name"] = new("KmsFarm:Dns:HostName", false, "SRV target: a name with a dot as is, one label before each domain (default machine name)"),
        ["--dns-ttl"] = new("KmsFarm:Dns:Ttl", false, "seconds (or hh:mm:ss) the published records may be cached (default 1200)"),
        ["--dns-refresh-interval"] = new("KmsFarm:Dns:RefreshInterval", false, "seconds (or hh:mm:ss) between re-publications (default 3600)"),
        ["--log-level"] = new("Logging:LogLevel:Default", false, "Trace|Debug|Information|Warning|Error|Critical|None: our own lines (default Information; other libraries stay at Warning)"),
        ["--config"] = new(ConfigFileKey, false, "a JSON settings file (the layout of appsettings.json) read over appsettings.json; flags and the environment win over it"),
        ["--log-format"] = new("Logging:Console:FormatterName", false, "console log format: simple|json|systemd (default simple)"),
        ["--request-log"] = new("Logging:LogLevel:" + RequestLogCategory, false, "Information: log event 12290 for every answered request, as a Windows KMS host does; None: not (default None)"),
        ["--admin-token-file"] = new("KmsFarm:Api:AdminTokenFile", false, "file holding a token that /api/* and the /status page then require (default: open)"),
    };

    /// <summary>The section of <c>--minimum-count GROUP=N</c>, one key per group.</summary>
    public const string MinimumCountKey = "KmsFarm:Activation:MinimumReportedCount";

    /// <summary>The key of <c>--config</c>: a settings file is named like any other setting (<c>KmsFarm__ConfigFile</c>).</summary>
    public const string ConfigFileKey = "KmsFarm:ConfigFile";

    /// <summary>Returns the configuration pairs for <paramref name="args"/>, or throws <see cref="NodeConfigurationException"/>
    /// naming the offending flag.</summary>
    public static IReadOnlyList<KeyValuePair<string, string?>> Translate(IReadOnlyList<string> args)
    {
        var pairs = new List<KeyValuePair<string, string?>>();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            string name = arg;
            string? value = null;
            int eq = arg.IndexOf('=', StringComparison.Ordinal);
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                name = arg[..eq];
                value = arg[(eq + 1)..];
            }

            if (!Flags.TryGetValue(name, out var flag))
            {
                throw new NodeConfigurationException($"Unknown command-line argument '{arg}'. Run with --help for the list of flags.");
            }

            if (value is null)
            {
                if (i + 1 >= args.Count || args[i + 1].StartsWith("--", StringComparison.Ordinal))
                {
                    throw new NodeConfigurationException($"Command-line flag {name} ({flag.Key}) needs a value.");
                }

                value = args[++i];
            }

            if ((name is "--idle-timeout" or "--handshake-timeout" or "--connection-lifetime" or "--dns-ttl" or "--dns-refresh-interval"
                    or "--history-purge-interval")
                && int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seconds))
            {
                value = TimeSpan.FromSeconds(seconds).ToString("c", CultureInfo.InvariantCulture);
            }
            else if (name == "--history-retention" && int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int days))
            {
                value = TimeSpan.FromDays(days).ToString("c", CultureInfo.InvariantCulture);
            }

            if (!flag.Repeatable && counts.ContainsKey(name))
            {
                throw new NodeConfigurationException(
                    $"Command-line flag {name} ({flag.Key}) is given twice; it takes one value. Repeatable flags: " +
                    string.Join(", ", Flags.Where(f => f.Value.Repeatable).Select(f => f.Key)) + ".");
            }

            if (name == "--minimum-count")
            {
                pairs.Add(MinimumCount(value));
                continue;
            }

            if (flag.Repeatable)
            {
                counts.TryGetValue(name, out int n);
                counts[name] = n + 1;
                pairs.Add(new($"{flag.Key}:{n.ToString(CultureInfo.InvariantCulture)}", value));
            }
            else
            {
                counts[name] = 1;
                pairs.Add(new(flag.Key, value));
            }
        }

        return pairs;
    }

    private static KeyValuePair<string, string?> MinimumCount(string value)
    {
        string[] parts = value.Split('=', 2, StringSplitOptions.TrimEntries);
        if (parts.Length != 2 || !Enum.TryParse<KmsFarm.Protocol.Catalog.ProductGroup>(parts[0], ignoreCase: true, out var group)
            || !Enum.IsDefined(group) || int.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
        {
            throw new NodeConfigurationException(
                $"Command-line flag --minimum-count ({MinimumCountKey}:GROUP) '{value}' is not GROUP=N with GROUP one of " +
                string.Join(", ", Enum.GetNames<KmsFarm.Protocol.Catalog.ProductGroup>()) + ".");
        }

        return new($"{MinimumCountKey}:{group}", parts[1]);
    }

    public static bool IsHelp(IReadOnlyList<string> args) => args.Any(a => a is "--help" or "-h" or "-?");

    public static bool IsVersion(IReadOnlyList<string> args) => args.Any(a => a is "--version");

    public static string HelpText()
    {
        var lines = new List<string>
        {
            "Usage: KmsFarm.Node [flags]      (--help: this text, --version: the build)",
            "       KmsFarm.Node probe [ready|live] [flags]   exit 0 when the node's /healthz/ready (or /live) answers 200",
            "",
            "Every flag is also a configuration key (appsettings.json, environment KmsFarm__...).", "",
        };
        foreach (var (name, flag) in Flags)
        {
            lines.Add($"  {name,-22} {flag.Help}");
            lines.Add($"  {string.Empty,-22} key {flag.Key}{(name == "--minimum-count" ? ":GROUP" : flag.Repeatable ? ":N" : string.Empty)}");
        }

        return string.Join(Environment.NewLine, lines);
    }

    public sealed record Flag(string Key, bool Repeatable, string Help);
}
