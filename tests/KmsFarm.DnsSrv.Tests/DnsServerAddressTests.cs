namespace KmsFarm.DnsSrv.Tests;

public sealed class DnsServerAddressTests
{
    [Theory]
    [InlineData("192.0.2.53", "192.0.2.53", 53)]
    [InlineData("192.0.2.53:5353", "192.0.2.53", 5353)]
    [InlineData("[2001:db8::53]:5353", "2001:db8::53", 5353)]
    [InlineData("[::1]", "::1", 53)]
    [InlineData("::1", "::1", 53)]
    [InlineData("dns.lab.example", "dns.lab.example", 53)]
    [InlineData(" dns.lab.example:54 ", "dns.lab.example", 54)]
    public void Parses_host_and_port(string text, string host, int port) =>
        Assert.Equal(new DnsServerAddress(host, port), DnsServerAddress.Parse(text));

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("192.0.2.53:0", "expected 1..65535")]
    [InlineData("192.0.2.53:x", "has port 'x'")]
    [InlineData("[192.0.2.53]:53", "not an IPv6 address")]
    [InlineData("2001:db8::53:x", "in brackets")]
    [InlineData("dns_server:53", "neither an IP address nor a host name")]
    public void Rejects_with_a_reason(string text, string expected)
    {
        Assert.False(DnsServerAddress.TryParse(text, out _, out string? error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Prints_ipv6_in_brackets() => Assert.Equal("[::1]:5353", new DnsServerAddress("::1", 5353).ToString());

    [Theory]
    [InlineData("lab.test", true)]
    [InlineData("lab.test.", true)]
    [InlineData("lan", true)]
    [InlineData("-lab.test", false)]
    [InlineData("lab..test", false)]
    [InlineData("lab_test", false)]
    [InlineData("", false)]
    public void Host_names_follow_rfc_1123(string name, bool valid) => Assert.Equal(valid, DnsNames.IsValidHostName(name, out _));
}
