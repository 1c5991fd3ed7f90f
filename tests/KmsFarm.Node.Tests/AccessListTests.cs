using System.Net;
using KmsFarm.Node.Access;
using KmsFarm.Node.Configuration;

namespace KmsFarm.Node.Tests;

public sealed class AccessListTests
{
    private static readonly IpAccessList Defaults = AccessListFactory.Create(new AccessControlOptions());

    [Theory]
    [InlineData("127.0.0.1")]
    [InlineData("127.255.0.9")]
    [InlineData("::1")]
    [InlineData("10.1.2.3")]
    [InlineData("172.16.0.1")]
    [InlineData("172.31.255.254")]
    [InlineData("192.168.1.1")]
    [InlineData("fc00::1")]
    [InlineData("fd12:3456::1")]
    [InlineData("fe80::1")]
    [InlineData("::ffff:10.0.0.1")]
    [InlineData("::ffff:127.0.0.1")]
    public void Default_list_allows_loopback_and_private_ranges(string address) =>
        Assert.True(Defaults.IsAllowed(IPAddress.Parse(address)));

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("172.32.0.1")]
    [InlineData("172.15.255.255")]
    [InlineData("192.169.0.1")]
    [InlineData("11.0.0.1")]
    [InlineData("2001:db8::1")]
    [InlineData("fec0::1")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("::")]
    public void Default_list_refuses_public_addresses(string address) =>
        Assert.False(Defaults.IsAllowed(IPAddress.Parse(address)));

    [Fact]
    public void Deny_wins_over_allow_and_mapped_addresses_are_judged_as_IPv4()
    {
        var list = AccessListFactory.Create(new AccessControlOptions { Deny = ["10.9.0.0/16", "127.0.0.1/32"] });
        Assert.False(list.IsAllowed(IPAddress.Parse("10.9.1.1")));
        Assert.False(list.IsAllowed(IPAddress.Parse("::ffff:10.9.1.1")));
        Assert.False(list.IsAllowed(IPAddress.Parse("127.0.0.1")));
        Assert.False(list.IsAllowed(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.True(list.IsAllowed(IPAddress.Parse("10.8.1.1")));
        Assert.True(list.IsAllowed(IPAddress.Parse("127.0.0.2")));
    }

    [Fact]
    public void An_explicit_allow_list_replaces_the_defaults()
    {
        var list = AccessListFactory.Create(new AccessControlOptions { Allow = ["203.0.113.0/24", "2001:db8::/32"] });
        Assert.True(list.IsAllowed(IPAddress.Parse("203.0.113.7")));
        Assert.True(list.IsAllowed(IPAddress.Parse("::ffff:203.0.113.7")));
        Assert.True(list.IsAllowed(IPAddress.Parse("2001:db8:1::5")));
        Assert.False(list.IsAllowed(IPAddress.Parse("10.0.0.1")));
        Assert.False(list.IsAllowed(IPAddress.Parse("127.0.0.1")));
    }

    [Fact]
    public void Link_local_with_a_scope_id_still_matches()
    {
        var address = IPAddress.Parse("fe80::1%2");
        Assert.True(Defaults.IsAllowed(address));
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0/8")]
    [InlineData("fc00::/7", "fc00::/7")]
    [InlineData("192.0.2.5", "192.0.2.5/32")]
    [InlineData("2001:db8::1", "2001:db8::1/128")]
    [InlineData(" 0.0.0.0/0 ", "0.0.0.0/0")]
    public void Cidr_parses(string text, string expected)
    {
        Assert.True(IpAccessList.TryParseCidr(text, out var network, out string? error), error);
        Assert.Equal(expected, network.ToString());
    }

    [Theory]
    [InlineData("10.0.0.1/8", "bits set after the prefix")]
    [InlineData("10.0.0.1/8", "10.0.0.0/8")]
    [InlineData("10.0.0.0/33", "prefix length")]
    [InlineData("fc00::/129", "prefix length")]
    [InlineData("10.0.0.0/x", "prefix length")]
    [InlineData("banana/8", "does not start with an IP address")]
    [InlineData("banana", "neither an IP address nor a CIDR")]
    [InlineData("", "empty")]
    public void Bad_cidr_gets_a_clear_error(string text, string expected)
    {
        Assert.False(IpAccessList.TryParseCidr(text, out _, out string? error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
