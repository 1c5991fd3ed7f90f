using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;
using static KmsFarm.Storage.Postgres.Tests.Attempts;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>Two silos on the farm database (migration 0004, AdoNet clustering with invariant Npgsql, no gateways) form one
/// cluster, and one that leaves gracefully is marked so while the other carries on.</summary>
[Trait("Category", "Cluster")]
public sealed class OrleansClusterTests(PostgresFixture postgres)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_silos_on_the_farm_database_form_one_cluster()
    {
        string db = await MigratedAsync();
        string cluster = NewClusterId();
        await using var a = await InProcessSilo.StartAsync(db, cluster, "silo-a", Ct);
        await using var b = await InProcessSilo.StartAsync(db, cluster, "silo-b", Ct);
        Assert.NotEqual(a.Address.Endpoint.Port, b.Address.Endpoint.Port);

        var rows = await MembershipRows.WaitForAsync(db, cluster, r => r.Count(x => x.Status == SiloStatus.Active) == 2, Patience,
            () => a.Log.Text + "\n" + b.Log.Text, Ct);
        Assert.Equal(["silo-a", "silo-b"], rows.Select(r => r.Name));
        Assert.All(rows, r => Assert.Equal("127.0.0.1", r.Address));
        Assert.Equal([a.Address.Endpoint.Port, b.Address.Endpoint.Port], rows.Select(r => r.Port));
        // No gateway: the silo has no gateway address, and its row advertises ProxyPort 0.
        Assert.All(new[] { a, b }, s => Assert.Null(s.Services.GetRequiredService<ILocalSiloDetails>().GatewayAddress));
        Assert.All(rows, r => Assert.Equal(0, r.ProxyPort));

        foreach (var silo in new[] { a, b })
        {
            var hosts = await WaitForActiveHostsAsync(silo, 2);
            Assert.Equal(new[] { a.Address, b.Address }.Order(), hosts.Order());
        }
    }

    [Fact]
    public async Task A_silo_stopped_gracefully_is_marked_dead_and_the_other_keeps_running()
    {
        string db = await MigratedAsync();
        string cluster = NewClusterId();
        await using var a = await InProcessSilo.StartAsync(db, cluster, "silo-a", Ct);
        await using var b = await InProcessSilo.StartAsync(db, cluster, "silo-b", Ct);
        await MembershipRows.WaitForAsync(db, cluster, r => r.Count(x => x.Status == SiloStatus.Active) == 2, Patience, () => a.Log.Text, Ct);
        await WaitForActiveHostsAsync(a, 2);

        await b.StopAsync(Ct);

        // Stopping gracefully, b writes its own row on the way out: ShuttingDown, then Dead.
        var rows = await MembershipRows.ReadAsync(db, cluster, Ct);
        Assert.Contains(rows.Row("silo-b").Status, new[] { SiloStatus.ShuttingDown, SiloStatus.Stopping, SiloStatus.Dead });
        rows = await MembershipRows.WaitForAsync(db, cluster, r => r.Row("silo-b").Status == SiloStatus.Dead, Patience, () => a.Log.Text, Ct);
        Assert.Equal(SiloStatus.Active, rows.Row("silo-a").Status);

        // a carries on alone: running, active, and its own view has only itself.
        Assert.Equal([a.Address], await WaitForActiveHostsAsync(a, 1));
        Assert.True(a.IsRunning, a.Log.Text);
        Assert.Equal(SiloStatus.Active, (await MembershipRows.ReadAsync(db, cluster, Ct)).Row("silo-a").Status);
    }

    internal static string NewClusterId() => "kmsfarm-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>What the silo itself believes: IManagementGrain.GetHosts(onlyActive: true), asked through the silo's own
    /// grain factory until it lists <paramref name="count"/> silos (its view follows the table within moments).</summary>
    internal static async Task<SiloAddress[]> WaitForActiveHostsAsync(InProcessSilo silo, int count)
    {
        var management = silo.Grains.GetGrain<IManagementGrain>(0);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var hosts = await management.GetHosts(onlyActive: true);
            if (hosts.Count == count)
            {
                Assert.All(hosts.Values, status => Assert.Equal(SiloStatus.Active, status));
                return [.. hosts.Keys];
            }

            Assert.True(clock.Elapsed < Patience,
                $"{silo} sees {hosts.Count} active silos, not {count}: {string.Join(", ", hosts)}\n{silo.Log.Text}");
            await Task.Delay(100, Ct);
        }
    }

    private async Task<string> MigratedAsync()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await (await OpenAsync(db)).DisposeAsync();
        return db;
    }
}
