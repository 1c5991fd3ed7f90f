using KmsFarm.Client.Cli;
using KmsFarm.DnsSrv;

namespace KmsFarm.Client.Tests;

/// <summary>--dns-domain/--dns-server/--host-cache on activate and load: exactly one way to name hosts, values checked.</summary>
public sealed class DnsCliParsingTests
{
    private static readonly ClientCatalog Catalog = ClientCatalog.Default;

    private static IReadOnlyList<string> Errors(params string[] args) =>
        ClientCli.CreateRootCommand(Catalog).Parse(args).Errors.Select(e => e.Message).ToArray();

    [Theory]
    [InlineData(new[] { "activate", "--host", "127.0.0.1", "--dns-domain", "lab.test" }, "Give exactly one of --host (host:port) or --dns-domain DOMAIN.")]
    [InlineData(new[] { "activate" }, "Give exactly one of --host (host:port) or --dns-domain DOMAIN.")]
    [InlineData(new[] { "activate", "--host", "127.0.0.1", "--dns-server", "127.0.0.1:5353" }, "--dns-server goes with --dns-domain.")]
    [InlineData(new[] { "activate", "--dns-domain", "lab_test" }, "--dns-domain: the domain 'lab_test' has label 'lab_test'")]
    [InlineData(new[] { "activate", "--dns-domain", "lab.test", "--dns-server", "127.0.0.1:0" }, "--dns-server: '127.0.0.1:0' has port '0'")]
    [InlineData(new[] { "load", "--hosts", "127.0.0.1", "--dns-domain", "lab.test" }, "Give exactly one of --hosts (host:port) or --dns-domain DOMAIN.")]
    [InlineData(new[] { "load" }, "Give exactly one of --hosts (host:port) or --dns-domain DOMAIN.")]
    [InlineData(new[] { "load", "--hosts", "127.0.0.1", "--dns-server", "127.0.0.1" }, "--dns-server goes with --dns-domain.")]
    public void Rejects_a_bad_combination_or_value(string[] args, string expected)
    {
        string[] withProduct = args[0] == "activate" ? [.. args, "--product", "Windows 10 Professional"] : args;
        Assert.Contains(Errors(withProduct), e => e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Activate_takes_a_domain_server_and_cache_instead_of_a_host()
    {
        var command = new ActivateCommand(Catalog);
        var parse = command.Command.Parse(["--dns-domain", "Lab.Test.", "--dns-server", "[::1]:5353", "--dns-cache", "/tmp/kms.json", "--product", "Windows 10 Professional"]);
        Assert.Empty(parse.Errors);

        var settings = command.GetSettings(parse);

        Assert.Empty(settings.Hosts);
        Assert.Equal(new DnsDiscoverySettings("lab.test", new DnsServerAddress("::1", 5353)), settings.Dns);
        Assert.Equal("/tmp/kms.json", settings.HostCache);
    }

    [Fact]
    public void Activate_takes_a_host_list_and_a_host_cache()
    {
        var command = new ActivateCommand(Catalog);
        var parse = command.Command.Parse(["--host", "127.0.0.1:1688,[::1]:1689", "--host-cache", "/tmp/kms.json", "--product", "Windows 10 Professional"]);
        Assert.Empty(parse.Errors);

        var settings = command.GetSettings(parse);

        Assert.Equal([new HostEndpoint("127.0.0.1", 1688), new HostEndpoint("::1", 1689)], settings.Hosts);
        Assert.Null(settings.Dns);
        Assert.Equal("/tmp/kms.json", settings.HostCache);
    }

    [Fact]
    public void Load_takes_a_domain_and_the_system_resolver_by_default()
    {
        var command = new LoadCommand(Catalog);
        var parse = command.Command.Parse(["--dns-domain", "lab.test", "--clients", "10"]);
        Assert.Empty(parse.Errors);

        Assert.Equal(new DnsDiscoverySettings("lab.test", null), command.Dns.GetSettings(parse));
        Assert.Empty(command.GetSettings(parse).Hosts);
    }
}
