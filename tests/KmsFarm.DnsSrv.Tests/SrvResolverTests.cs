using System.Net;
using KmsFarm.TestKit;

namespace KmsFarm.DnsSrv.Tests;

/// <summary>The resolver against a real BIND zone with three KMS hosts at different priorities and weights.</summary>
public sealed class SrvResolverTests(BindFixture bind) : IClassFixture<BindFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Resolves_every_record_with_its_addresses_and_orders_them_per_rfc_2782()
    {
        string domain = BindFixture.NewDomain();
        string service = "_vlmcs._tcp." + domain;
        await bind.Server.NsUpdateAsync($"""
            update add {service} 300 SRV 10 60 1688 kms-a.{domain}.
            update add {service} 300 SRV 10 40 1689 kms-b.{domain}.
            update add {service} 300 SRV 20 0 1690 kms-c.{domain}.
            update add kms-a.{domain} 300 A 127.0.0.11
            update add kms-b.{domain} 300 A 127.0.0.12
            update add kms-b.{domain} 300 AAAA ::1
            update add kms-c.{domain} 300 A 127.0.0.13
            """, Ct);
        using var resolver = await SrvResolver.CreateAsync(DnsServerAddress.Parse(bind.Server.Server), SrvResolver.DefaultTimeout, Ct);

        var records = await resolver.ResolveKmsAsync(domain, Ct);

        Assert.Equal(
            [
                ($"kms-a.{domain}", 10, 60, 1688, "127.0.0.11"),
                ($"kms-b.{domain}", 10, 40, 1689, "127.0.0.12,::1"),
                ($"kms-c.{domain}", 20, 0, 1690, "127.0.0.13"),
            ],
            records.OrderBy(r => r.Target, StringComparer.Ordinal)
                .Select(r => (r.Target, (int)r.Priority, (int)r.Weight, (int)r.Port, string.Join(',', r.Addresses))));

        var ordered = SrvOrdering.Order(records, new Random(1688)).Select(r => r.Target).ToArray();
        Assert.Equal(ordered, SrvOrdering.Order(records, new Random(1688)).Select(r => r.Target));
        Assert.Equal($"kms-c.{domain}", ordered[^1]);

        var random = new Random(42);
        int aFirst = Enumerable.Range(0, 4_000).Count(_ => SrvOrdering.Order(records, random)[0].Target == $"kms-a.{domain}");
        Assert.InRange(aFirst / 4_000.0, 0.52, 0.66); // weight 60 of 100
    }

    [Fact]
    public async Task A_domain_without_kms_hosts_and_a_silent_server_are_explained()
    {
        using var resolver = await SrvResolver.CreateAsync(DnsServerAddress.Parse(bind.Server.Server), SrvResolver.DefaultTimeout, Ct);
        var missing = await Assert.ThrowsAsync<DnsLookupException>(() => resolver.ResolveKmsAsync(BindFixture.NewDomain(), Ct));
        Assert.Equal("NXDOMAIN", missing.ResponseCode);
        Assert.Contains("no KMS host is published", missing.Message, StringComparison.Ordinal);

        using var silent = await SrvResolver.CreateAsync(new DnsServerAddress("127.0.0.1", LoopbackPorts.Free()), TimeSpan.FromMilliseconds(300), Ct);
        var timeout = await Assert.ThrowsAsync<DnsLookupException>(() => silent.ResolveKmsAsync("lab.test", Ct));
        Assert.Null(timeout.ResponseCode);
        Assert.Contains("no answer from 127.0.0.1:", timeout.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_single_dot_target_means_the_service_is_not_offered()
    {
        string domain = BindFixture.NewDomain();
        await bind.Server.NsUpdateAsync($"update add _vlmcs._tcp.{domain} 300 SRV 0 0 0 .", Ct);
        using var resolver = await SrvResolver.CreateAsync(DnsServerAddress.Parse(bind.Server.Server), SrvResolver.DefaultTimeout, Ct);

        Assert.Empty(await resolver.ResolveKmsAsync(domain, Ct));
        Assert.Empty(await resolver.ResolveAddressesAsync("nothing-here.lab.test", Ct));
        Assert.Equal([IPAddress.Parse("127.0.0.1")], await resolver.ResolveAddressesAsync("ns.lab.test", Ct));
    }
}
