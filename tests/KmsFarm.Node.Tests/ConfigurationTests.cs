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
    [InlineData(new[] { "--max-fragment-length", "100" }, "KmsFarm:Listener:MaxFragmentLength (--max-fragment-length)")]
    [InlineData(new[] { "--catalog", "/nonexistent/catalog.json" }, "KmsFarm:Node:CatalogPath (--catalog)")]
    [InlineData(new[] { "--node-name", " " }, "KmsFarm:Node:Name (--node-name)")]
    [InlineData(new[] { "--listen", "x" }, "--listen")]
    [InlineData(new[] { "--activation-interval", "5" }, "KmsFarm:Activation:ActivationIntervalMinutes")]
    [InlineData(new[] { "--activation-interval", "5" }, "(--activation-interval)")]
    [InlineData(new[] { "--renewal-interval", "99999" }, "KmsFarm:Activation:RenewalIntervalMinutes")]
    [InlineData(new[] { "--host-build", "1234" }, "KmsFarm:Node:HostBuild (--host-build)")]
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
        Assert.Equal(["0.0.0.0:1688", "[::]:1688"], new KmsListenerOptions().EffectiveKmsEndpoints);
        Assert.Equal("127.0.0.1:8688", new KmsListenerOptions().HttpEndpoint);
        Assert.Equal("sqlite:kmsfarm.db", new StoreOptions().Location);
    }
}
