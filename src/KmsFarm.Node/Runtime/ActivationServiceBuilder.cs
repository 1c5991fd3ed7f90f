using KmsFarm.Activation;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Protocol.Catalog;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Runtime;

/// <summary>The seam between the host and the activation domain: creates a new farm identity, tells whether its host
/// build speaks NDR64 (the catalog's host-build table) and builds the <see cref="ActivationService"/> over the store and
/// the farm's product-group ledgers (the grains).</summary>
public sealed class ActivationServiceBuilder(
    ProductCatalog catalog,
    IProductGroupLedgers ledgers,
    IOptions<NodeOptions> nodeOptions,
    IOptions<ActivationPolicyOptions> policyOptions,
    TimeProvider timeProvider,
    ILoggerFactory loggerFactory)
{
    public bool UsesNdr64(int hostBuild) =>
        catalog.TryGetHostBuild(hostBuild, out var info)
            ? info.UsesNdr64
            : throw new InvalidOperationException($"The stored farm identity claims host build {hostBuild}, which the catalog does not know.");

    /// <summary>A new farm identity on the configured host build; CSVLKs newer than that build get ePIDs on the oldest build
    /// they can be installed on, which one line of the log lists.</summary>
    public FarmIdentity CreateIdentity()
    {
        var factory = new FarmIdentityFactory(catalog, timeProvider);
        var identity = factory.Create(nodeOptions.Value.HostBuild);
        var newer = factory.NewerCsvlks(identity.HostBuild);
        if (newer.Count > 0)
        {
            loggerFactory.CreateLogger<ActivationServiceBuilder>().NewerCsvlksOnOlderBuilds(
                identity.HostBuild, newer.Count, string.Join(", ", newer.Select(n => $"{n.Csvlk.Id} {n.EpidBuild}")));
        }

        return identity;
    }

    public ActivationService Build(IActivationStore store, FarmIdentity identity) =>
        new(catalog, store, ledgers, identity, policyOptions.Value, timeProvider, nodeOptions.Value.Name, loggerFactory.CreateLogger<ActivationService>(),
            loggerFactory.CreateLogger(ActivationService.RequestLogCategory));
}
