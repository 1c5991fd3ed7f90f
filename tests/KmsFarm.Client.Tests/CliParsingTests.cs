using KmsFarm.Client.Cli;
using KmsFarm.Client.Load;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client.Tests;

public sealed class CliParsingTests
{
    private static readonly ClientCatalog Catalog = ClientCatalog.Default;

    private static IReadOnlyList<string> Errors(params string[] args) =>
        ClientCli.CreateRootCommand(Catalog).Parse(args).Errors.Select(e => e.Message).ToArray();

    [Theory]
    [InlineData("127.0.0.1:99999", "invalid port")]
    [InlineData("127.0.0.1:abc", "invalid port")]
    [InlineData("::1:1688", "[address]:port")]
    [InlineData("[::1:1688", "does not close")]
    [InlineData(":1688", "no valid host")]
    public void Activate_rejects_a_bad_host(string host, string expected)
    {
        var errors = Errors("activate", "--host", host, "--product", "Windows 10 Professional");

        Assert.Contains(errors, e => e.StartsWith("--host:", StringComparison.Ordinal) && e.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Activate_rejects_an_unknown_product_and_suggests_names()
    {
        var errors = Errors("activate", "--host", "127.0.0.1:1688", "--product", "Windows 10 Pro Plus Ultra");
        var single = Assert.Single(errors);
        Assert.Contains("unknown product 'Windows 10 Pro Plus Ultra'", single, StringComparison.Ordinal);

        var hinted = Assert.Single(Errors("activate", "--host", "127.0.0.1:1688", "--product", "Office Standard"));
        Assert.Contains("Did you mean", hinted, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("7")]
    [InlineData("3")]
    [InlineData("six")]
    public void Activate_rejects_a_protocol_other_than_4_5_6(string protocol)
    {
        var errors = Errors("activate", "--host", "127.0.0.1:1688", "--product", "Windows 10 Professional", "--protocol", protocol);

        Assert.Contains(errors, e => e.Contains($"'{protocol}' is not a KMS protocol version", StringComparison.Ordinal));
    }

    [Fact]
    public void Activate_requires_exactly_one_of_product_and_kms_id()
    {
        Assert.Contains(Errors("activate", "--host", "127.0.0.1:1688"), e => e.Contains("exactly one", StringComparison.Ordinal));
        Assert.Contains(
            Errors("activate", "--host", "127.0.0.1:1688", "--product", "Windows 10 Professional", "--kms-id", Guid.NewGuid().ToString()),
            e => e.Contains("exactly one", StringComparison.Ordinal));
        Assert.Contains(Errors("activate", "--product", "Windows 10 Professional"), e => e.Contains("--host", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("--count", "0")]
    [InlineData("--machine", "a-name-that-is-much-longer-than-sixty-three-characters-which-windows-never-allows")]
    [InlineData("--cmid", "not-a-guid")]
    public void Activate_rejects_bad_values(string option, string value)
    {
        Assert.NotEmpty(Errors("activate", "--host", "127.0.0.1:1688", "--product", "Windows 10 Professional", option, value));
    }

    [Fact]
    public void Activate_settings_default_to_the_products_protocol_and_a_random_identity()
    {
        var command = new ActivateCommand(Catalog);
        var parse = command.Command.Parse(["--host", "[::1]:1700", "--product", "Office Professional Plus 2010", "--no-btfn", "-n", "3"]);
        Assert.Empty(parse.Errors);

        var settings = command.GetSettings(parse);

        Assert.Equal([new HostEndpoint("::1", 1700)], settings.Hosts);
        Assert.Equal(KmsProtocolVersion.V4, settings.Protocol);
        Assert.Equal(3, settings.Count);
        Assert.False(settings.ClientOptions.OfferBtfn);
        Assert.True(settings.ClientOptions.OfferNdr64);
        Assert.NotEqual(Guid.Empty, settings.ClientMachineId);
        Assert.Matches("^DESKTOP-[A-Z0-9]{7}$", settings.WorkstationName);
    }

    [Fact]
    public void Activate_accepts_any_kms_id()
    {
        var command = new ActivateCommand(Catalog);
        var kmsId = Guid.NewGuid();
        var parse = command.Command.Parse(["--host", "localhost", "--kms-id", kmsId.ToString(), "--protocol", "5"]);
        Assert.Empty(parse.Errors);

        var settings = command.GetSettings(parse);

        Assert.Equal(kmsId, settings.Product.KmsCountedId);
        Assert.Equal(KmsProtocolVersion.V5, settings.Protocol);
        Assert.Equal(HostEndpoint.DefaultPort, Assert.Single(settings.Hosts).Port);
    }

    [Fact]
    public void Load_parses_hosts_duration_mix_and_protocol()
    {
        var command = new LoadCommand(Catalog);
        var parse = command.Command.Parse([
            "--hosts", "127.0.0.1:1688,[::1]:1689", "--clients", "500", "--duration", "1.5m", "--concurrency", "3",
            "--mix", "office", "--renewal-ratio", "0.25", "--protocol", "auto", "--seed", "42", "--new-connection",
        ]);
        Assert.Empty(parse.Errors);

        var settings = command.GetSettings(parse);

        Assert.Equal([new HostEndpoint("127.0.0.1", 1688), new HostEndpoint("::1", 1689)], settings.Hosts);
        Assert.Equal(500, settings.Clients);
        Assert.Equal(TimeSpan.FromSeconds(90), settings.Duration);
        Assert.Equal(3, settings.Concurrency);
        Assert.Equal(LoadMix.Office, settings.Mix);
        Assert.Equal(0.25, settings.RenewalRatio);
        Assert.Null(settings.Protocol);
        Assert.Equal(42, settings.Seed);
        Assert.True(settings.NewConnectionPerActivation);
        Assert.Null(settings.Rate);
    }

    [Fact]
    public void Load_takes_a_target_rate()
    {
        var command = new LoadCommand(Catalog);
        var parse = command.Command.Parse(["--hosts", "127.0.0.1", "--rate", "2500.5"]);
        Assert.Empty(parse.Errors);

        Assert.Equal(2500.5, command.GetSettings(parse).Rate);
    }

    [Fact]
    public void Load_takes_a_forced_protocol()
    {
        var command = new LoadCommand(Catalog);
        var parse = command.Command.Parse(["--hosts", "127.0.0.1", "--protocol", "5"]);
        Assert.Empty(parse.Errors);

        Assert.Equal(KmsProtocolVersion.V5, command.GetSettings(parse).Protocol);
    }

    [Theory]
    [InlineData("--hosts", "127.0.0.1:1688,", "--hosts:")]
    [InlineData("--duration", "-5s", "--duration:")]
    [InlineData("--duration", "soon", "--duration:")]
    [InlineData("--renewal-ratio", "1.5", "--renewal-ratio")]
    [InlineData("--clients", "0", "--clients")]
    [InlineData("--concurrency", "0", "--concurrency")]
    [InlineData("--protocol", "7", "--protocol:")]
    [InlineData("--rate", "-1", "--rate")]
    public void Load_rejects_bad_values(string option, string value, string expected)
    {
        var args = new List<string> { "load", "--hosts", "127.0.0.1:1688" };
        if (option == "--hosts")
        {
            args.RemoveRange(1, 2);
        }

        args.AddRange([option, value]);
        Assert.Contains(Errors([.. args]), e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("30s", 30)]
    [InlineData("250ms", 0.25)]
    [InlineData("2m", 120)]
    [InlineData("1h", 3600)]
    [InlineData("90", 90)]
    [InlineData("00:01:30", 90)]
    public void Durations_parse(string text, double seconds)
    {
        Assert.True(CliParsers.TryParseDuration(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Theory]
    [InlineData("127.0.0.1", "127.0.0.1", 1688)]
    [InlineData("kms.lab:1700", "kms.lab", 1700)]
    [InlineData("[::1]", "::1", 1688)]
    [InlineData(" [::1]:1 ", "::1", 1)]
    public void Host_endpoints_parse(string text, string host, int port)
    {
        Assert.Equal(new HostEndpoint(host, port), HostEndpoint.Parse(text));
    }
}
