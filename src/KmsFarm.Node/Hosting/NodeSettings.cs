using System.Globalization;
using System.Net;
using KmsFarm.Activation;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Storage;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Node.Hosting;

/// <summary>What the host needs before the container exists (listen addresses, the catalog, the store and the silo's
/// cluster settings), bound and validated eagerly so a bad value stops start-up with a message naming it rather than
/// failing inside Kestrel or Orleans.</summary>
internal sealed record NodeSettings(
    IReadOnlyList<IPEndPoint> KmsEndPoints,
    IPEndPoint HttpEndPoint,
    ProductCatalog Catalog,
    StoreLocation Store,
    FarmClusterOptions Cluster,
    IPAddress AdvertisedAddress,
    string NodeName)
{
    /// <summary>Where the activation policy lives in the node's configuration.</summary>
    public const string ActivationSectionName = "KmsFarm:" + ActivationPolicyOptions.SectionName;

    public static NodeSettings BindAndValidate(IConfiguration configuration)
    {
        var listener = Bind<KmsListenerOptions>(configuration, KmsListenerOptions.SectionName);
        var access = Bind<AccessControlOptions>(configuration, AccessControlOptions.SectionName);
        var store = Bind<StoreOptions>(configuration, StoreOptions.SectionName);
        var node = Bind<NodeOptions>(configuration, NodeOptions.SectionName);
        var policy = Bind<ActivationPolicyOptions>(configuration, ActivationSectionName);
        var cluster = Bind<FarmClusterOptions>(configuration, FarmClusterOptions.SectionName);
        var failures = CheckLogLevels(configuration)
            .Concat(NodeOptionsValidator.Check(listener))
            .Concat(NodeOptionsValidator.Check(access))
            .Concat(NodeOptionsValidator.Check(store))
            .Concat(NodeOptionsValidator.Check(node))
            .Concat(NodeOptionsValidator.Check(cluster))
            .ToList();
        var catalog = failures.Count == 0 ? LoadCatalog(node.CatalogPath, failures) : null;
        if (catalog is not null)
        {
            failures.AddRange(CheckPolicy(policy, catalog));
            failures.AddRange(CheckHostBuild(node, catalog));
        }

        if (failures.Count > 0 || catalog is null)
        {
            throw new NodeConfigurationException(failures);
        }

        var kms = listener.EffectiveKmsEndpoints.Select((e, i) => EndPointParser.Parse(e, $"{KmsListenerOptions.SectionName}:KmsEndpoints:{i}")).ToArray();
        var location = StoreLocation.Parse(store.Location);
        var settings = new NodeSettings(
            kms,
            EndPointParser.Parse(listener.HttpEndpoint, $"{KmsListenerOptions.SectionName}:HttpEndpoint"),
            catalog,
            location,
            cluster,
            SiloHostingExtensions.ChooseAdvertisedAddress(cluster.AdvertisedAddress, location.Kind),
            node.Name);
        var overlaps = CheckOverlaps(settings.Listeners).ToList();
        return overlaps.Count == 0 ? settings : throw new NodeConfigurationException(overlaps);
    }

    /// <summary>Every socket the node listens on, with the setting that names it: the KMS endpoints, the HTTP endpoint, the
    /// silo port and the gateway port (on the address the silo listens at).</summary>
    public IReadOnlyList<NodeListener> Listeners
    {
        get
        {
            const string listener = KmsListenerOptions.SectionName, cluster = FarmClusterOptions.SectionName;
            var list = KmsEndPoints.Select((e, i) => new NodeListener(e, $"{listener}:KmsEndpoints:{I(i)} (--kms-endpoint)")).ToList();
            list.Add(new NodeListener(HttpEndPoint, $"{listener}:HttpEndpoint (--http-endpoint)"));
            var siloAddress = SiloHostingExtensions.SiloListeningAddress(Store.Kind, AdvertisedAddress);
            list.Add(new NodeListener(new IPEndPoint(siloAddress, Cluster.SiloPort), $"{cluster}:SiloPort (--silo-port)"));
            if (Cluster.GatewayPort is int gateway)
            {
                list.Add(new NodeListener(new IPEndPoint(siloAddress, gateway), $"{cluster}:GatewayPort (--gateway-port)"));
            }

            return list;
        }
    }

    /// <summary>Two listeners overlap when they share a port (not 0) in one address family and either has the same
    /// address or one of them listens on every address of the family: the second could not be bound, or would take
    /// connections meant for the first.</summary>
    private static IEnumerable<string> CheckOverlaps(IReadOnlyList<NodeListener> listeners)
    {
        for (int i = 0; i < listeners.Count; i++)
        {
            for (int j = 0; j < i; j++)
            {
                var (a, b) = (listeners[j].EndPoint, listeners[i].EndPoint);
                if (a.Port != 0 && a.Port == b.Port && a.AddressFamily == b.AddressFamily
                    && (a.Address.Equals(b.Address) || IsAny(a.Address) || IsAny(b.Address)))
                {
                    yield return $"{listeners[i].Setting} {b} overlaps {listeners[j].Setting} {a}: each listener needs a port (or address) of its own.";
                }
            }
        }

        static bool IsAny(IPAddress address) => address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any);
    }

    /// <summary>Every <c>…:LogLevel:…</c> value under <c>Logging</c> must name a level; the logging library would otherwise
    /// fail inside the host with a stack trace.</summary>
    private static IEnumerable<string> CheckLogLevels(IConfiguration configuration)
    {
        foreach (var (key, value) in configuration.GetSection("Logging").AsEnumerable())
        {
            var segments = key.Split(':');
            if (value is null || segments.Length < 3 || !string.Equals(segments[^2], "LogLevel", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!Enum.TryParse<LogLevel>(value, ignoreCase: true, out var level) || !Enum.IsDefined(level))
            {
                string? name = CommandLineFlags.Flags.FirstOrDefault(f => string.Equals(f.Value.Key, key, StringComparison.OrdinalIgnoreCase)).Key;
                string flag = name is null ? "" : $" ({name})";
                yield return $"{key}{flag} '{value}' is not a log level; use Trace, Debug, Information, Warning, Error, Critical or None.";
            }
        }
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The domain's own messages, re-rooted under KmsFarm: and with the command-line flag where there is one.</summary>
    public static IEnumerable<string> CheckPolicy(ActivationPolicyOptions policy, ProductCatalog catalog) =>
        policy.Validate(catalog).Select(message =>
        {
            string text = message.StartsWith(ActivationPolicyOptions.SectionName + ":", StringComparison.Ordinal) ? "KmsFarm:" + message : message;
            return text.Contains(nameof(ActivationPolicyOptions.ActivationIntervalMinutes), StringComparison.Ordinal) ? text + " (--activation-interval)"
                : text.Contains(nameof(ActivationPolicyOptions.RenewalIntervalMinutes), StringComparison.Ordinal) ? text + " (--renewal-interval)"
                : text.Contains(nameof(ActivationPolicyOptions.MinimumReportedCount), StringComparison.Ordinal) ? text + " (--minimum-count)"
                : text;
        });

    private static IEnumerable<string> CheckHostBuild(NodeOptions node, ProductCatalog catalog)
    {
        if (node.HostBuild is int build && (!catalog.TryGetHostBuild(build, out var info) || !info.UseForEpid))
        {
            string known = string.Join(", ", catalog.KmsHostBuilds.Select(b => $"{I(b.Build)} ({b.Name})"));
            yield return $"{NodeOptions.SectionName}:HostBuild (--host-build) {I(build)} is not a build a KMS host runs; use one of {known}.";
        }
    }

    private static ProductCatalog? LoadCatalog(string? path, List<string> failures)
    {
        if (string.IsNullOrEmpty(path))
        {
            return ProductCatalog.Default;
        }

        try
        {
            using var stream = File.OpenRead(path);
            return ProductCatalog.Load(stream);
        }
        catch (Exception ex) when (ex is CatalogFormatException or IOException or UnauthorizedAccessException)
        {
            failures.Add($"{NodeOptions.SectionName}:CatalogPath (--catalog) '{path}': {ex.Message}");
            return null;
        }
    }

    private static T Bind<T>(IConfiguration configuration, string section)
        where T : new()
    {
        var options = new T();
        try
        {
            configuration.GetSection(section).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            // The binder's message names the key and the value it could not convert (e.g. a non-numeric MaxConnections).
            throw new NodeConfigurationException($"{section}: {ex.Message}", ex);
        }

        return options;
    }
}

/// <summary>One socket the node listens on and the setting (key and flag) that names it, for messages.</summary>
internal sealed record NodeListener(IPEndPoint EndPoint, string Setting);
