using KmsFarm.Activation;

namespace KmsFarm.Node.Storage;

/// <summary>Opens the store named by <c>--store</c>. A service so tests can substitute a store that fails on demand.</summary>
public interface IActivationStoreFactory
{
    IActivationStore Create(StoreLocation location);
}
