using System.Net;
using KmsFarm.TestKit;

namespace KmsFarm.DnsSrv.Tests;

/// <summary>The publisher against a real BIND: records checked with dig, other hosts' records added with nsupdate.</summary>
public sealed class SrvPublisherTests(BindFixture bind) : IClassFixture<BindFixture>
{
    private static readonly IPAddress Loopback = IPAddress.Parse("127.0.0.1");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private BindServer Bind => bind.Server;

    [Fact]
    public async Task Publish_adds_srv_and_address_records_signed_with_the_key()
    {
        string domain = BindFixture.NewDomain();
        var registration = new SrvRegistration(domain, 5, 20, 1688, "kms-a." + domain, [Loopback, IPAddress.IPv6Loopback], TimeSpan.FromMinutes(20));
        using var publisher = await CreatePublisherAsync(TsigKeyFile.Load(Bind.KeyFile));

        var result = await publisher.PublishAsync(registration, Ct);

        Assert.True(result.Succeeded, result + "\n" + Bind.Log);
        Assert.Equal([$"5 20 1688 kms-a.{domain}."], await Bind.DigAsync("_vlmcs._tcp." + domain, "SRV", Ct));
        Assert.Equal(["127.0.0.1"], await Bind.DigAsync("kms-a." + domain, "A", Ct));
        Assert.Equal(["::1"], await Bind.DigAsync("kms-a." + domain, "AAAA", Ct));
    }

    [Fact]
    public async Task Withdraw_removes_only_its_own_srv_record_and_keeps_an_address_another_record_names()
    {
        string domain = BindFixture.NewDomain();
        string service = "_vlmcs._tcp." + domain;
        using var publisher = await CreatePublisherAsync(TsigKeyFile.Load(Bind.KeyFile));
        var mine = new SrvRegistration(domain, 0, 0, 1688, "kms-a." + domain, [Loopback], TimeSpan.FromMinutes(20));
        var sameHostOtherPort = mine with { Port = 1689 };
        await Bind.NsUpdateAsync($"update add {service} 600 SRV 0 0 1688 kms-other.{domain}.", Ct);
        Assert.True((await publisher.PublishAsync(mine, Ct)).Succeeded);
        Assert.True((await publisher.PublishAsync(sameHostOtherPort, Ct)).Succeeded);

        var first = await publisher.WithdrawAsync(mine, Ct);

        Assert.True(first.Succeeded, first.ToString());
        Assert.Contains("kept the address records", first.Detail, StringComparison.Ordinal);
        Assert.Equal([$"0 0 1688 kms-other.{domain}.", $"0 0 1689 kms-a.{domain}."], (await Bind.DigAsync(service, "SRV", Ct)).Order());
        Assert.Equal(["127.0.0.1"], await Bind.DigAsync("kms-a." + domain, "A", Ct));

        Assert.True((await publisher.WithdrawAsync(sameHostOtherPort, Ct)).Succeeded);
        Assert.Equal([$"0 0 1688 kms-other.{domain}."], await Bind.DigAsync(service, "SRV", Ct));
        Assert.Empty(await Bind.DigAsync("kms-a." + domain, "A", Ct));
    }

    [Fact]
    public async Task Publishing_again_with_a_new_priority_replaces_its_record_instead_of_adding_one()
    {
        string domain = BindFixture.NewDomain();
        using var publisher = await CreatePublisherAsync(TsigKeyFile.Load(Bind.KeyFile));
        var registration = new SrvRegistration(domain, 0, 0, 1688, "kms-a." + domain, [], TimeSpan.FromMinutes(20));
        Assert.True((await publisher.PublishAsync(registration, Ct)).Succeeded);

        Assert.True((await publisher.PublishAsync(registration with { Priority = 10, Weight = 50 }, Ct)).Succeeded);

        Assert.Equal([$"10 50 1688 kms-a.{domain}."], await Bind.DigAsync("_vlmcs._tcp." + domain, "SRV", Ct));
        Assert.Empty(await Bind.DigAsync("kms-a." + domain, "A", Ct));
    }

    [Fact]
    public async Task The_zone_is_found_by_its_soa_so_a_domain_below_the_zone_apex_and_a_target_in_another_zone_work()
    {
        string domain = BindFixture.NewDomain("lab.test");
        string target = "host-" + Guid.NewGuid().ToString("N")[..6] + ".lab2.test";
        using var publisher = await CreatePublisherAsync(TsigKeyFile.Load(Bind.KeyFile));

        var result = await publisher.PublishAsync(new SrvRegistration(domain, 1, 1, 1688, target, [Loopback], TimeSpan.FromSeconds(60)), Ct);

        Assert.True(result.Succeeded, result.ToString());
        Assert.Contains("zone lab.test", result.Detail, StringComparison.Ordinal);
        Assert.Equal([$"1 1 1688 {target}."], await Bind.DigAsync("_vlmcs._tcp." + domain, "SRV", Ct));
        Assert.Equal(["127.0.0.1"], await Bind.DigAsync(target, "A", Ct));
    }

    [Fact]
    public async Task A_key_with_the_right_name_and_a_wrong_secret_is_refused_as_notauth_badsig()
    {
        string domain = BindFixture.NewDomain();
        string keyFile = Path.Combine(Bind.Directory, "wrong-" + Guid.NewGuid().ToString("N") + ".key");
        await BindServer.WriteKeyFileAsync(keyFile, BindServer.KeyName, Ct);
        using var publisher = await CreatePublisherAsync(TsigKeyFile.Load(keyFile));

        var result = await publisher.PublishAsync(new SrvRegistration(domain, 0, 0, 1688, "kms-a." + domain, [Loopback], TimeSpan.FromMinutes(20)), Ct);

        Assert.False(result.Succeeded);
        Assert.Equal("NOTAUTH", result.ResponseCode);
        Assert.Equal("BADSIG", result.TsigError);
        Assert.Contains("did not verify", result.Detail, StringComparison.Ordinal);
        Assert.Empty(await Bind.DigAsync("_vlmcs._tcp." + domain, "SRV", Ct));
    }

    [Fact]
    public async Task An_unknown_key_is_badkey_and_an_unsigned_update_is_refused()
    {
        string domain = BindFixture.NewDomain();
        string keyFile = Path.Combine(Bind.Directory, "unknown-" + Guid.NewGuid().ToString("N") + ".key");
        await BindServer.WriteKeyFileAsync(keyFile, "nobody-knows-me", Ct);
        var registration = new SrvRegistration(domain, 0, 0, 1688, "kms-a." + domain, [], TimeSpan.FromMinutes(20));

        using (var unknown = await CreatePublisherAsync(TsigKeyFile.Load(keyFile)))
        {
            var result = await unknown.PublishAsync(registration, Ct);
            Assert.Equal(("NOTAUTH", "BADKEY"), (result.ResponseCode, result.TsigError));
        }

        using (var unsigned = await CreatePublisherAsync(key: null))
        {
            var result = await unsigned.PublishAsync(registration, Ct);
            Assert.Equal("REFUSED", result.Code);
            Assert.Contains("give a TSIG key", result.Detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_domain_the_server_does_not_serve_and_a_silent_server_are_reported_not_thrown()
    {
        using (var publisher = await CreatePublisherAsync(TsigKeyFile.Load(Bind.KeyFile)))
        {
            var result = await publisher.PublishAsync(new SrvRegistration("elsewhere.example", 0, 0, 1688, "kms.elsewhere.example", [], TimeSpan.FromMinutes(1)), Ct);
            Assert.Equal("REFUSED", result.ResponseCode);
            Assert.Contains("named no zone for _vlmcs._tcp.elsewhere.example", result.Detail, StringComparison.Ordinal);
        }

        var silent = new DnsServerAddress("127.0.0.1", LoopbackPorts.Free());
        using var nobody = await SrvPublisher.CreateAsync(silent, TsigKeyFile.Load(Bind.KeyFile), TimeSpan.FromMilliseconds(300), Ct);
        var timeout = await nobody.PublishAsync(new SrvRegistration("lab.test", 0, 0, 1688, "kms.lab.test", [], TimeSpan.FromMinutes(1)), Ct);
        Assert.Equal(DnsResponseCodes.NoResponse, timeout.ResponseCode);
        Assert.Contains($"no answer from {silent}", timeout.Detail, StringComparison.Ordinal);
    }

    private Task<SrvPublisher> CreatePublisherAsync(TsigKey? key) =>
        SrvPublisher.CreateAsync(DnsServerAddress.Parse(Bind.Server), key, SrvPublisher.DefaultTimeout, Ct);
}
