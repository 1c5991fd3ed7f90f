using KmsFarm.TestKit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace KmsFarm.Grains.Tests;

/// <summary>The test clusters use a copy of the node's failure detection and timeouts (<see cref="NodeSiloSettings"/>);
/// a real node's silo must have the same, or the failover tests measure another farm.</summary>
[Trait("Category", "Integration")]
public sealed class NodeSiloSettingsTests
{
    [Fact]
    public async Task The_copy_matches_what_a_node_configures_its_silo_with()
    {
        await using var node = await InProcessNode.StartAsync(cancellationToken: TestContext.Current.CancellationToken);
        var membership = node.Services.GetRequiredService<IOptions<ClusterMembershipOptions>>().Value;
        var messaging = node.Services.GetRequiredService<IOptions<SiloMessagingOptions>>().Value;

        var expected = new ClusterMembershipOptions();
        NodeSiloSettings.Apply(expected);
        Assert.Equal(
            (expected.ProbeTimeout, expected.NumMissedProbesLimit, expected.NumVotesForDeathDeclaration, expected.IAmAliveTablePublishTimeout, expected.TableRefreshTimeout),
            (membership.ProbeTimeout, membership.NumMissedProbesLimit, membership.NumVotesForDeathDeclaration, membership.IAmAliveTablePublishTimeout, membership.TableRefreshTimeout));
        Assert.Equal(
            (NodeSiloSettings.ResponseTimeout, NodeSiloSettings.SystemResponseTimeout),
            (messaging.ResponseTimeout, messaging.SystemResponseTimeout));
    }
}
