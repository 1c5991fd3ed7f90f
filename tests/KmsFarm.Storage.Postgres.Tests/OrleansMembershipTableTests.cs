using System.Net;
using System.Reflection;
using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Membership;
using Orleans.Runtime.MembershipService;
using static KmsFarm.Storage.Postgres.Tests.Attempts;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>Migration 0004 against the AdoNet clustering provider itself (its <see cref="AdoNetClusteringTable"/>, the
/// <see cref="IMembershipTable"/> every silo uses): the queries are there, and they keep the membership protocol's rules.</summary>
[Trait("Category", "Integration")]
public sealed class OrleansMembershipTableTests(PostgresFixture postgres)
{
    /// <summary>The keys Orleans.Clustering.AdoNet 10.4.2 reads from OrleansQuery: the instance properties of its internal
    /// DbStoredQueries class (Shared/Storage/DbStoredQueries.cs in dotnet/orleans, compiled with CLUSTERING_ADONET), whose
    /// constructor refuses to start when one is missing. The test below reads them from the assembly as well, so an Orleans
    /// upgrade that adds a key fails here first.</summary>
    private static readonly string[] ProviderQueryKeys =
    [
        "GatewaysQueryKey", "MembershipReadRowKey", "MembershipReadAllKey", "InsertMembershipVersionKey", "UpdateIAmAlivetimeKey",
        "InsertMembershipKey", "UpdateMembershipKey", "DeleteMembershipTableEntriesKey", "CleanupDefunctSiloEntriesKey",
    ];

    /// <summary>The ADO.NET invariant the farm's silos use: Npgsql.</summary>
    private const string Invariant = "Npgsql";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task OrleansQuery_holds_every_query_the_clustering_provider_reads_and_a_second_start_changes_nothing()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await (await OpenAsync(db)).DisposeAsync();
        const string Fingerprint = "SELECT string_agg(QueryKey || md5(QueryText), ',' ORDER BY QueryKey) FROM OrleansQuery";
        string before = await ScalarAsync<string>(db, Fingerprint);

        // Start-up on a migrated database applies nothing.
        await using var again = await OpenAsync(db);
        Assert.Equal(PostgresMigrations.LatestVersion, again.SchemaVersion);
        Assert.Equal(before, await ScalarAsync<string>(db, Fingerprint));

        var providerKeys = typeof(AdoNetClusteringTable).Assembly
            .GetType("Orleans.Clustering.AdoNet.Storage.DbStoredQueries", throwOnError: true)!
            .GetProperties(BindingFlags.Instance | BindingFlags.NonPublic)
            .Select(p => p.Name)
            .Order(StringComparer.Ordinal);
        Assert.Equal(ProviderQueryKeys.Order(StringComparer.Ordinal), providerKeys);
        var stored = await ScalarAsync<string[]>(db, "SELECT array_agg(QueryKey ORDER BY QueryKey) FROM OrleansQuery");
        Assert.Equal(ProviderQueryKeys.Order(StringComparer.Ordinal), stored.Order(StringComparer.Ordinal));

        // The provider's own start-up check (and the version row it creates).
        var table = Table(db, "cluster-a");
        await table.InitializeMembershipTableAsync(tryInitTableVersion: true, Ct);
        var empty = await table.ReadAllAsync(Ct);
        Assert.Empty(empty.Members);
        Assert.Equal(0, empty.Version.Version);
    }

    [Fact]
    public async Task Rows_change_only_against_the_version_they_were_decided_on()
    {
        string db = await MigratedAsync();
        var table = Table(db, "cluster-a");
        await table.InitializeMembershipTableAsync(true, Ct);
        await table.InitializeMembershipTableAsync(true, Ct); // a second silo starting: the version row is kept
        var v0 = (await table.ReadAllAsync(Ct)).Version;
        Assert.Equal(0, v0.Version);

        var a = Entry(11111, SiloStatus.Joining, "a");
        Assert.True(await table.InsertRowAsync(a, v0.Next(), Ct));
        var read = await table.ReadAllAsync(Ct);
        Assert.Equal(1, read.Version.Version);
        AssertSame(a, Assert.Single(read.Members).Item1);

        // Another silo that read version 0 loses: nothing inserted, version unchanged.
        Assert.False(await table.InsertRowAsync(Entry(11112, SiloStatus.Joining, "b"), v0.Next(), Ct));
        // The same silo twice: refused, version unchanged.
        Assert.False(await table.InsertRowAsync(a, read.Version.Next(), Ct));
        Assert.Equal(1, (await table.ReadAllAsync(Ct)).Version.Version);
        Assert.Single((await table.ReadAllAsync(Ct)).Members);

        a.Status = SiloStatus.Active;
        a.SuspectTimes = [Tuple.Create(SiloAddress.New(IPAddress.Loopback, 11112, 7), Ms(DateTime.UtcNow))];
        // The runtime passes the row's etag from its last read (10.4.2 makes it the table version it read).
        string etag = Assert.Single(read.Members).Item2;
        Assert.True(await table.UpdateRowAsync(a, etag, read.Version.Next(), Ct));
        Assert.False(await table.UpdateRowAsync(a, etag, read.Version.Next(), Ct)); // stale now
        var unknown = Entry(11113, SiloStatus.Active, "c");
        var v2 = (await table.ReadAllAsync(Ct)).Version;
        Assert.False(await table.UpdateRowAsync(unknown, v2.VersionEtag, v2.Next(), Ct)); // no such row: no version bump either
        Assert.Equal(2, (await table.ReadAllAsync(Ct)).Version.Version);

        var row = await table.ReadRowAsync(a.SiloAddress, Ct);
        Assert.Equal(2, row.Version.Version);
        AssertSame(a, Assert.Single(row.Members).Item1);
        var none = await table.ReadRowAsync(unknown.SiloAddress, Ct);
        Assert.Empty(none.Members);
        Assert.Equal(2, none.Version.Version);

        // Heartbeats are not membership changes.
        a.IAmAliveTime = Ms(DateTime.UtcNow.AddSeconds(5));
        await table.UpdateIAmAliveAsync(a, Ct);
        var afterHeartbeat = await table.ReadAllAsync(Ct);
        Assert.Equal(2, afterHeartbeat.Version.Version);
        AssertSame(a, Assert.Single(afterHeartbeat.Members).Item1);

        // Clusters do not see each other.
        var other = Table(db, "cluster-b");
        await other.InitializeMembershipTableAsync(true, Ct);
        Assert.Empty((await other.ReadAllAsync(Ct)).Members);
    }

    [Fact]
    public async Task Of_writers_racing_from_the_same_version_exactly_one_wins()
    {
        string db = await MigratedAsync();
        var tables = Enumerable.Range(0, 4).Select(_ => Table(db, "race")).ToArray();
        foreach (var table in tables)
        {
            await table.InitializeMembershipTableAsync(true, Ct);
        }

        for (int round = 0; round < 10; round++)
        {
            var version = (await tables[0].ReadAllAsync(Ct)).Version;
            var results = await Task.WhenAll(tables.Select((t, i) =>
                t.InsertRowAsync(Entry(20000 + (round * 10) + i, SiloStatus.Joining, $"r{round}-{i}"), version.Next(), Ct)));
            Assert.Equal(1, results.Count(r => r));
            var after = await tables[0].ReadAllAsync(Ct);
            Assert.Equal(version.Version + 1, after.Version.Version);
            Assert.Equal(round + 1, after.Members.Count);
        }
    }

    [Fact]
    public async Task Cleanup_removes_old_rows_of_silos_that_are_not_active_and_delete_forgets_one_cluster()
    {
        string db = await MigratedAsync();
        var table = Table(db, "cluster-a");
        await table.InitializeMembershipTableAsync(true, Ct);
        var now = Ms(DateTime.UtcNow);
        var old = now.AddHours(-2);
        var activeButQuiet = Entry(1, SiloStatus.Active, "active-quiet", old);
        var deadLongAgo = Entry(2, SiloStatus.Dead, "dead-long-ago", old);
        var leftLongAgo = Entry(3, SiloStatus.ShuttingDown, "left-long-ago", old);
        var deadRecently = Entry(4, SiloStatus.Dead, "dead-recently", now.AddMinutes(-1));
        // Its last heartbeat is old but it was voted dead a minute ago: recent (Orleans' EffectiveUpdateTime).
        var votedDeadRecently = Entry(5, SiloStatus.Active, "voted-dead-recently", old);
        foreach (var entry in new[] { activeButQuiet, deadLongAgo, leftLongAgo, deadRecently, votedDeadRecently })
        {
            Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync(Ct)).Version.Next(), Ct));
        }

        votedDeadRecently.Status = SiloStatus.Dead;
        votedDeadRecently.SuspectTimes =
        [
            Tuple.Create(activeButQuiet.SiloAddress, old),
            Tuple.Create(SiloAddress.New(IPAddress.IPv6Loopback, 6, 6), now.AddMinutes(-1)),
        ];
        var beforeVote = await table.ReadAllAsync(Ct);
        string etag = beforeVote.Members.Single(m => m.Item1.SiloAddress.Equals(votedDeadRecently.SiloAddress)).Item2;
        Assert.True(await table.UpdateRowAsync(votedDeadRecently, etag, beforeVote.Version.Next(), Ct));

        var other = Table(db, "cluster-b");
        await other.InitializeMembershipTableAsync(true, Ct);
        Assert.True(await other.InsertRowAsync(Entry(1, SiloStatus.Dead, "other-cluster", old), (await other.ReadAllAsync(Ct)).Version.Next(), Ct));

        await table.CleanupDefunctSiloEntriesAsync(new DateTimeOffset(now.AddHours(-1)), Ct);
        var kept = (await table.ReadAllAsync(Ct)).Members.Select(m => m.Item1.SiloName).Order(StringComparer.Ordinal);
        Assert.Equal(["active-quiet", "dead-recently", "voted-dead-recently"], kept);
        Assert.Single((await other.ReadAllAsync(Ct)).Members);

        await table.DeleteMembershipTableEntriesAsync("cluster-a", Ct);
        Assert.Equal(0L, await ScalarAsync<long>(db, "SELECT count(*) FROM orleans_membership WHERE cluster_id = 'cluster-a'"));
        Assert.Equal(0L, await ScalarAsync<long>(db, "SELECT count(*) FROM orleans_membership_version WHERE cluster_id = 'cluster-a'"));
        Assert.Single((await other.ReadAllAsync(Ct)).Members);
    }

    [Fact]
    public async Task Gateways_are_the_active_silos_with_a_proxy_port()
    {
        string db = await MigratedAsync();
        var table = Table(db, "cluster-a");
        await table.InitializeMembershipTableAsync(true, Ct);
        var withGateway = Entry(11111, SiloStatus.Active, "gw", proxyPort: 30000);
        var noGateway = Entry(11112, SiloStatus.Active, "no-gw");
        var deadGateway = Entry(11113, SiloStatus.Dead, "dead-gw", proxyPort: 30001);
        foreach (var entry in new[] { withGateway, noGateway, deadGateway })
        {
            Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync(Ct)).Version.Next(), Ct));
        }

        var gateways = new AdoNetGatewayListProvider(
            NullLogger<AdoNetGatewayListProvider>.Instance,
            new ServiceCollection().BuildServiceProvider(),
            Options.Create(new AdoNetClusteringClientOptions { Invariant = Invariant, ConnectionString = db }),
            Options.Create(new GatewayOptions()),
            Options.Create(new ClusterOptions { ClusterId = "cluster-a" }));
        await gateways.InitializeGatewayListProvider();
        var uri = Assert.Single(await gateways.GetGateways());
        Assert.Equal(SiloAddress.New(IPAddress.Loopback, 30000, withGateway.SiloAddress.Generation).ToGatewayUri(), uri);
    }

    private async Task<string> MigratedAsync()
    {
        string db = await postgres.CreateDatabaseAsync(Ct);
        await (await OpenAsync(db)).DisposeAsync();
        return db;
    }

    private static AdoNetClusteringTable Table(string connectionString, string clusterId) => new(
        new ServiceCollection().BuildServiceProvider(),
        Options.Create(new ClusterOptions { ClusterId = clusterId, ServiceId = "kmsfarm-tests" }),
        Options.Create(new AdoNetClusteringSiloOptions { Invariant = Invariant, ConnectionString = connectionString }),
        NullLogger<AdoNetClusteringTable>.Instance);

    private static MembershipEntry Entry(int port, SiloStatus status, string name, DateTime? time = null, int proxyPort = 0)
    {
        var at = time ?? Ms(DateTime.UtcNow);
        return new MembershipEntry
        {
            SiloAddress = SiloAddress.New(IPAddress.Loopback, port, 1000 + port),
            SiloName = name,
            HostName = "test-host",
            Status = status,
            ProxyPort = proxyPort,
            StartTime = at.AddSeconds(-1),
            IAmAliveTime = at,
        };
    }

    /// <summary>Whole milliseconds: what Orleans' vote format keeps (the columns keep microseconds).</summary>
    private static DateTime Ms(DateTime utc) => new(utc.Ticks - (utc.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);

    private static void AssertSame(MembershipEntry expected, MembershipEntry actual)
    {
        Assert.Equal(expected.SiloAddress, actual.SiloAddress);
        Assert.Equal((expected.SiloName, expected.HostName, expected.Status, expected.ProxyPort),
            (actual.SiloName, actual.HostName, actual.Status, actual.ProxyPort));
        Assert.Equal((expected.StartTime, expected.IAmAliveTime), (actual.StartTime, actual.IAmAliveTime));
        Assert.Equal(DateTimeKind.Utc, actual.IAmAliveTime.Kind);
        Assert.Equal(expected.SuspectTimes ?? [], actual.SuspectTimes ?? []);
    }
}
