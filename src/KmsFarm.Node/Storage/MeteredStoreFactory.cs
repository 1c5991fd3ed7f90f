using KmsFarm.Activation;
using KmsFarm.Node.Diagnostics;

namespace KmsFarm.Node.Storage;

/// <summary>Opens stores with <paramref name="inner"/> and measures them (<see cref="MeteredActivationStore"/>).</summary>
public sealed class MeteredStoreFactory(IActivationStoreFactory inner, StoreMetrics metrics) : IActivationStoreFactory
{
    public IActivationStore Create(StoreLocation location) => new MeteredActivationStore(inner.Create(location), metrics);
}
