using System.Net;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Storage;

namespace KmsFarm.Node.Tests;

public sealed class ParsingTests
{
    [Theory]
    [InlineData("0.0.0.0:1688", "0.0.0.0:1688")]
    [InlineData("[::]:1688", "[::]:1688")]
    [InlineData("[::1]:0", "[::1]:0")]
    [InlineData("127.0.0.1:65535", "127.0.0.1:65535")]
    [InlineData("*:1688", "0.0.0.0:1688")]
    [InlineData("localhost:8688", "127.0.0.1:8688")]
    public void Endpoint_parses(string text, string expected)
    {
        Assert.True(EndPointParser.TryParse(text, out var endPoint, out string? error), error);
        Assert.Equal(IPEndPoint.Parse(expected), endPoint);
    }

    [Theory]
    [InlineData("1688", "not HOST:PORT")]
    [InlineData("0.0.0.0:", "not HOST:PORT")]
    [InlineData("0.0.0.0:65536", "expected 0..65535")]
    [InlineData("0.0.0.0:-1", "expected 0..65535")]
    [InlineData("::1:1688", "expected an IPv4 address")]
    [InlineData("[10.0.0.1]:1688", "not an IPv6 address")]
    [InlineData("kms.example:1688", "expected an IPv4 address")]
    [InlineData("", "empty")]
    public void Bad_endpoint_gets_a_clear_error(string text, string expected)
    {
        Assert.False(EndPointParser.TryParse(text, out _, out string? error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Store_locations_parse()
    {
        Assert.True(StoreLocation.TryParse("sqlite:/var/lib/kmsfarm/farm.db", out var sqlite, out _));
        Assert.Equal(new StoreLocation(StoreKind.Sqlite, "/var/lib/kmsfarm/farm.db"), sqlite);
        Assert.True(StoreLocation.TryParse("postgres:Host=db;Username=kms;Password=s3cret", out var pg, out _));
        Assert.Equal(StoreKind.Postgres, pg.Kind);
        Assert.Equal("Host=db;Username=kms;Password=s3cret", pg.Target);
    }

    [Fact]
    public void A_relative_sqlite_path_is_the_working_directorys()
    {
        Assert.True(StoreLocation.TryParse("sqlite:farm.db", out var location, out _));
        Assert.Equal(Path.Combine(Environment.CurrentDirectory, "farm.db"), location.Target);
        Assert.Equal("sqlite:" + Path.Combine(Environment.CurrentDirectory, "farm.db"), location.Redacted);
    }

    [Theory]
    [InlineData("postgres:Host=db;Username=kms;Password=s3cret;Database=farm", "postgres:Host=db;Username=kms;Password=***;Database=farm")]
    [InlineData("postgres:Host=db;pwd = 'a;b' ;Database=farm", "postgres:Host=db;pwd = *** ;Database=farm")]
    [InlineData("postgres:password=x", "postgres:password=***")]
    [InlineData("postgres://kms:s3cret@db:5432/farm", "postgres://kms:***@db:5432/farm")]
    [InlineData("sqlite:/var/lib/kmsfarm/farm.db", "sqlite:/var/lib/kmsfarm/farm.db")]
    public void Store_location_redacts_passwords(string text, string expected)
    {
        Assert.True(StoreLocation.TryParse(text, out var location, out _));
        Assert.Equal(expected, location.Redacted);
        Assert.DoesNotContain("s3cret", location.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("redis:localhost", "unknown scheme 'redis'")]
    [InlineData("kmsfarm.db", "no scheme")]
    [InlineData("sqlite:", "needs a file path")]
    [InlineData("postgres: ", "needs a connection string")]
    public void Bad_store_location_gets_a_clear_error(string text, string expected)
    {
        Assert.False(StoreLocation.TryParse(text, out _, out string? error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Flags_map_to_configuration_keys_with_indexes_for_repeatable_ones()
    {
        var pairs = CommandLineFlags.Translate(
            ["--kms-endpoint", "127.0.0.1:1688", "--kms-endpoint=[::1]:1688", "--deny", "10.0.0.0/8", "--idle-timeout", "5", "--store", "sqlite:x.db"]);
        Assert.Equal(
            [
                new("KmsFarm:Listener:KmsEndpoints:0", "127.0.0.1:1688"),
                new("KmsFarm:Listener:KmsEndpoints:1", "[::1]:1688"),
                new("KmsFarm:Access:Deny:0", "10.0.0.0/8"),
                new("KmsFarm:Listener:IdleTimeout", "00:00:05"),
                new KeyValuePair<string, string?>("KmsFarm:Store:Location", "sqlite:x.db"),
            ],
            pairs);
    }

    [Fact]
    public void Unknown_flag_and_missing_value_are_errors()
    {
        var unknown = Assert.Throws<NodeConfigurationException>(() => CommandLineFlags.Translate(["--kms-endpiont", "x"]));
        Assert.Contains("--kms-endpiont", unknown.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<NodeConfigurationException>(() => CommandLineFlags.Translate(["--store"]));
        Assert.Contains("--store", missing.Message, StringComparison.Ordinal);
        Assert.Contains("KmsFarm:Store:Location", missing.Message, StringComparison.Ordinal);
    }
}
