using KmsFarm.Node.Configuration;
using KmsFarm.Node.Hosting;

namespace KmsFarm.Node.Tests;

/// <summary>A bad setting stops start-up with a message that names the setting (key and flag).</summary>
public sealed class ConfigurationTests
{
    [Theory]
    [InlineData(new[] { "--kms-endpoint", "0.0.0.0" }, "KmsFarm:Listener:KmsEndpoints:0 (--kms-endpoint)")]
    [InlineData(new[] { "--kms-endpoint", "127.0.0.1:1688", "--kms-endpoint", "[::1]:99999" }, "KmsFarm:Listener:KmsEndpoints:1 (--kms-endpoint)")]
    [InlineData(new[] { "--http-endpoint", "host.example:80" }, "KmsFarm:Listener:HttpEndpoint (--http-endpoint)")]
    [InlineData(new[] { "--allow", "10.0.0.300/8" }, "KmsFarm:Access:Allow:0 (--allow)")]
    [InlineData(new[] { "--deny", "10.0.0.0/8", "--deny", "192.168.1.1/16" }, "KmsFarm:Access:Deny:1 (--deny)")]
    [InlineData(new[] { "--store", "redis:localhost" }, "KmsFarm:Store:Location (--store)")]
    [InlineData(new[] { "--store", "kmsfarm.db" }, "KmsFarm:Store:Location (--store)")]
    [InlineData(new[] { "--idle-timeout", "0" }, "KmsFarm:Listener:IdleTimeout (--idle-timeout)")]
    [InlineData(new[] { "--idle-timeout", "601" }, "KmsFarm:Listener:IdleTimeout (--idle-timeout)")]
    [InlineData(new[] { "--max-connections", "0" }, "KmsFarm:Listener:MaxConnections (--max-connections)")]
    [InlineData(new[] { "--max-connections", "many" }, "KmsFarm:Listener:MaxConnections")]
    [InlineData(new[] { "--max-connections-per-source", "0" }, "KmsFarm:Listener:MaxConnectionsPerSource (--max-connections-per-source)")]
    [InlineData(new[] { "--handshake-timeout", "0" }, "KmsFarm:Listener:HandshakeTimeout (--handshake-timeout)")]
    [InlineData(new[] { "--connection-lifetime", "90000" }, "KmsFarm:Listener:ConnectionLifetime (--connection-lifetime)")]
    [InlineData(new[] { "--request-rate", "-1" }, "KmsFarm:Listener:RequestRate (--request-rate)")]
    [InlineData(new[] { "--request-rate", "NaN" }, "KmsFarm:Listener:RequestRate (--request-rate)")]
    [InlineData(new[] { "--request-burst", "0" }, "KmsFarm:Listener:RequestBurst (--request-burst)")]
    [InlineData(new[] { "--max-fragment-length", "100" }, "KmsFarm:Listener:MaxFragmentLength (--max-fragment-length)")]
    [InlineData(new[] { "--catalog", "/nonexistent/catalog.json" }, "KmsFarm:Node:CatalogPath (--catalog)")]
    [InlineData(new[] { "--node-name", " " }, "KmsFarm:Node:Name (--node-name)")]
    [InlineData(new[] { "--listen", "x" }, "--listen")]
    [InlineData(new[] { "--activation-interval", "5" }, "KmsFarm:Activation:ActivationIntervalMinutes")]
    [InlineData(new[] { "--activation-interval", "5" }, "(--activation-interval)")]
    [InlineData(new[] { "--renewal-interval", "99999" }, "KmsFarm:Activation:RenewalIntervalMinutes")]
    [InlineData(new[] { "--host-build", "1234" }, "KmsFarm:Node:HostBuild (--host-build)")]
    [InlineData(new[] { "--host-build", "22000" }, "KmsFarm:Node:HostBuild (--host-build) 22000 is not a build a KMS host runs; use one of 6002 (")]
    [InlineData(new[] { "--heartbeat-interval", "10" }, "--heartbeat-interval")]
    [InlineData(new[] { "--durability", "sometimes" }, "KmsFarm:Store")]
    [InlineData(new[] { "--durability", "7" }, "KmsFarm:Store:Durability (--durability)")]
    [InlineData(new[] { "--cluster-id", "my farm" }, "KmsFarm:Cluster:ClusterId (--cluster-id)")]
    [InlineData(new[] { "--cluster-id", "" }, "KmsFarm:Cluster:ClusterId (--cluster-id)")]
    [InlineData(new[] { "--silo-port", "0" }, "KmsFarm:Cluster:SiloPort (--silo-port)")]
    [InlineData(new[] { "--silo-port", "70000" }, "KmsFarm:Cluster:SiloPort (--silo-port)")]
    [InlineData(new[] { "--silo-port", "eleven" }, "KmsFarm:Cluster")]
    [InlineData(new[] { "--gateway-port", "11111" }, "KmsFarm:Cluster:GatewayPort (--gateway-port)")]
    [InlineData(new[] { "--gateway-port", "0" }, "KmsFarm:Cluster:GatewayPort (--gateway-port)")]
    [InlineData(new[] { "--advertised-address", "node-a.lab" }, "KmsFarm:Cluster:AdvertisedAddress (--advertised-address)")]
    [InlineData(new[] { "--advertised-address", "0.0.0.0" }, "KmsFarm:Cluster:AdvertisedAddress (--advertised-address)")]
    [InlineData(new[] { "--dns-publish", "lab.test:1", "--dns-server", "127.0.0.1" }, "KmsFarm:Dns:Publish:0 (--dns-publish) 'lab.test:1' is not DOMAIN or DOMAIN:PRIORITY:WEIGHT")]
    [InlineData(new[] { "--dns-publish", "lab.test", "--dns-publish", "lab.test:0:70000", "--dns-server", "127.0.0.1" }, "KmsFarm:Dns:Publish:1 (--dns-publish)")]
    [InlineData(new[] { "--dns-publish", "lab_test", "--dns-server", "127.0.0.1" }, "KmsFarm:Dns:Publish:0 (--dns-publish) domain 'lab_test'")]
    [InlineData(new[] { "--dns-publish", "lab.test", "--dns-publish", "LAB.test.", "--dns-server", "127.0.0.1" }, "KmsFarm:Dns:Publish:1 (--dns-publish) names domain lab.test a second time")]
    [InlineData(new[] { "--dns-publish", "lab.test" }, "KmsFarm:Dns:Server (--dns-server) is required")]
    [InlineData(new[] { "--dns-server", "[::1" }, "KmsFarm:Dns:Server (--dns-server)")]
    [InlineData(new[] { "--dns-server", "127.0.0.1:0" }, "KmsFarm:Dns:Server (--dns-server) '127.0.0.1:0' has port '0'")]
    [InlineData(new[] { "--dns-tsig-key-file", "/nonexistent/kms.key" }, "KmsFarm:Dns:TsigKeyFile (--dns-tsig-key-file) '/nonexistent/kms.key' cannot be read")]
    [InlineData(new[] { "--dns-host-name", "kms_1" }, "KmsFarm:Dns:HostName (--dns-host-name)")]
    [InlineData(new[] { "--dns-ttl", "0" }, "KmsFarm:Dns:Ttl (--dns-ttl)")]
    [InlineData(new[] { "--dns-ttl", "soon" }, "KmsFarm:Dns")]
    [InlineData(new[] { "--dns-refresh-interval", "700000" }, "KmsFarm:Dns:RefreshInterval (--dns-refresh-interval)")]
    [InlineData(new[] { "--node-name", "a", "--node-name", "b" }, "--node-name (KmsFarm:Node:Name) is given twice")]
    [InlineData(new[] { "--store=sqlite:a.db", "--store", "sqlite:b.db" }, "--store (KmsFarm:Store:Location) is given twice")]
    [InlineData(new[] { "--log-level", "Verbose" }, "Logging:LogLevel:Default (--log-level) 'Verbose' is not a log level")]
    [InlineData(new[] { "--kms-endpoint", "[::ffff:10.0.0.1]:1688" }, "KmsFarm:Listener:KmsEndpoints:0 (--kms-endpoint) '[::ffff:10.0.0.1]:1688' is an IPv4 address written as IPv6; write it as 10.0.0.1:1688")]
    [InlineData(new[] { "--kms-endpoint", "127.0.0.1:1700", "--http-endpoint", "127.0.0.1:1700" }, "KmsFarm:Listener:HttpEndpoint (--http-endpoint) 127.0.0.1:1700 overlaps KmsFarm:Listener:KmsEndpoints:0 (--kms-endpoint) 127.0.0.1:1700")]
    [InlineData(new[] { "--kms-endpoint", "127.0.0.1:1700", "--kms-endpoint", "0.0.0.0:1700" }, "KmsFarm:Listener:KmsEndpoints:1 (--kms-endpoint) 0.0.0.0:1700 overlaps")]
    [InlineData(new[] { "--kms-endpoint", "0.0.0.0:1700", "--http-endpoint", "127.0.0.1:1701", "--silo-port", "1700" }, "KmsFarm:Cluster:SiloPort (--silo-port) 127.0.0.1:1700 overlaps")]
    [InlineData(new[] { "--store", "sqlite:/no/such/dir/x.db" }, "KmsFarm:Store:Location (--store) sqlite: the directory /no/such/dir does not exist")]
    [InlineData(new[] { "--config", "/no/such/kmsfarm.json" }, "KmsFarm:ConfigFile (--config) '/no/such/kmsfarm.json' does not exist")]
    [InlineData(new[] { "--minimum-count", "Windows=51" }, "KmsFarm:Activation:MinimumReportedCount:Windows is 51; expected 0..50")]
    [InlineData(new[] { "--minimum-count", "Office2010=11" }, "KmsFarm:Activation:MinimumReportedCount:Office2010 is 11; expected 0..10")]
    [InlineData(new[] { "--minimum-count", "Linux=5" }, "--minimum-count (KmsFarm:Activation:MinimumReportedCount:GROUP) 'Linux=5' is not GROUP=N")]
    [InlineData(new[] { "--history-retention", "-1" }, "KmsFarm:Store:HistoryRetention (--history-retention) is -1.00:00:00; expected 0 (keep for ever) or 1 to 36500 days")]
    [InlineData(new[] { "--history-purge-interval", "0" }, "KmsFarm:Store:HistoryPurgeInterval (--history-purge-interval)")]
    public void Bad_setting_is_named(string[] args, string expected)
    {
        var ex = Assert.Throws<NodeConfigurationException>(() => NodeApplication.Create(args));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_failure_is_reported_at_once()
    {
        var ex = Assert.Throws<NodeConfigurationException>(() => NodeApplication.Create(["--kms-endpoint", "x", "--deny", "y", "--store", "z:w"]));
        Assert.Contains("--kms-endpoint", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--deny", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--store", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_exits_non_zero_with_the_message()
    {
        using var error = new StringWriter();
        int exitCode = await NodeApplication.RunAsync(["--store", "redis:localhost"], error);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("KmsFarm:Store:Location (--store)", error.ToString(), StringComparison.Ordinal);
        Assert.Contains("redis", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Help_lists_every_flag_with_its_key()
    {
        string help = CommandLineFlags.HelpText();
        foreach (var (flag, spec) in CommandLineFlags.Flags)
        {
            Assert.Contains(flag, help, StringComparison.Ordinal);
            Assert.Contains(spec.Key, help, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Defaults_are_valid()
    {
        Assert.Empty(NodeOptionsValidator.Check(new KmsListenerOptions()));
        Assert.Empty(NodeOptionsValidator.Check(new AccessControlOptions()));
        Assert.Empty(NodeOptionsValidator.Check(new StoreOptions()));
        Assert.Empty(NodeOptionsValidator.Check(new NodeOptions()));
        Assert.Empty(NodeOptionsValidator.Check(new FarmClusterOptions()));
        Assert.Equal(("kmsfarm", 11111, (int?)null, (string?)null),
            (new FarmClusterOptions().ClusterId, new FarmClusterOptions().SiloPort, new FarmClusterOptions().GatewayPort, new FarmClusterOptions().AdvertisedAddress));
        Assert.Equal(KmsFarm.Activation.StoreDurability.Process, new StoreOptions().Durability);
        Assert.Equal((TimeSpan.FromDays(90), TimeSpan.FromDays(1)), (new StoreOptions().HistoryRetention, new StoreOptions().HistoryPurgeInterval));
        Assert.Equal(["0.0.0.0:1688", "[::]:1688"], new KmsListenerOptions().EffectiveKmsEndpoints);
        Assert.Equal("127.0.0.1:8688", new KmsListenerOptions().HttpEndpoint);
        Assert.Equal("sqlite:kmsfarm.db", new StoreOptions().Location);
        Assert.Empty(DnsPublishingOptionsValidator.Check(new DnsPublishingOptions()));
        Assert.False(new DnsPublishingOptions().Enabled);
        Assert.Equal((TimeSpan.FromMinutes(20), TimeSpan.FromHours(1)), (new DnsPublishingOptions().Ttl, new DnsPublishingOptions().RefreshInterval));
    }

    [Fact]
    public void Dns_flags_map_to_configuration_keys()
    {
        var pairs = CommandLineFlags.Translate(
            ["--dns-publish", "lab.test", "--dns-publish", "lab2.test:1:50", "--dns-server", "192.0.2.53:5353", "--dns-tsig-key-file", "/etc/kms.key",
             "--dns-host-name", "kms1", "--dns-ttl", "90", "--dns-refresh-interval", "01:00:00"]);
        Assert.Equal(
            [
                new("KmsFarm:Dns:Publish:0", "lab.test"), new("KmsFarm:Dns:Publish:1", "lab2.test:1:50"), new("KmsFarm:Dns:Server", "192.0.2.53:5353"),
                new("KmsFarm:Dns:TsigKeyFile", "/etc/kms.key"), new("KmsFarm:Dns:HostName", "kms1"), new("KmsFarm:Dns:Ttl", "00:01:30"),
                new KeyValuePair<string, string?>("KmsFarm:Dns:RefreshInterval", "01:00:00"),
            ],
            pairs);
    }

    [Theory]
    [InlineData("lab.test", null, "lab.test", 0, 0, "MACHINE.lab.test")]
    [InlineData("Lab.Test.:10:60", "kms1", "lab.test", 10, 60, "kms1.lab.test")]
    [InlineData("lab.test:0:0", "kms1.hosts.lab.test.", "lab.test", 0, 0, "kms1.hosts.lab.test")]
    public void A_publish_entry_gives_domain_priority_weight_and_target(string text, string? hostName, string domain, int priority, int weight, string target)
    {
        Assert.True(DnsPublishEntry.TryParse(text, out var entry, out string? error), error);
        Assert.Equal((domain, priority, weight), (entry.Domain, (int)entry.Priority, (int)entry.Weight));
        Assert.Equal(target.Replace("MACHINE", Environment.MachineName.ToLowerInvariant(), StringComparison.Ordinal), entry.TargetFor(hostName));
    }

    [Fact]
    public async Task A_malformed_key_file_stops_start_up_naming_the_setting_and_the_file()
    {
        string path = Path.Combine(Path.GetTempPath(), "kmsfarm-" + Guid.NewGuid().ToString("N") + ".key");
        await File.WriteAllTextAsync(path, "key \"kms\" { algorithm hmac-md5; secret \"c2VjcmV0\"; };", TestContext.Current.CancellationToken);
        try
        {
            using var error = new StringWriter();
            int exitCode = await NodeApplication.RunAsync(["--dns-publish", "lab.test", "--dns-server", "127.0.0.1", "--dns-tsig-key-file", path], error);
            Assert.Equal(2, exitCode);
            Assert.Contains($"KmsFarm:Dns:TsigKeyFile (--dns-tsig-key-file) '{path}' key \"kms\" uses algorithm 'hmac-md5'", error.ToString(), StringComparison.Ordinal);
            Assert.DoesNotContain("c2VjcmV0", error.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
