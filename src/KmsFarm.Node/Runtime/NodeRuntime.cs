using KmsFarm.Activation;
using KmsFarm.Protocol.Rpc;

namespace KmsFarm.Node.Runtime;

/// <summary>What the node serves with once start-up has loaded it: the store, the farm identity, the activation service
/// and the RPC options derived from the identity. Connections arriving before <see cref="IsLoaded"/> are closed.</summary>
public sealed class NodeRuntime
{
    private volatile Loaded? _loaded;

    public bool IsLoaded => _loaded is not null;

    public IActivationStore Store => Current.Store;

    public FarmIdentity Identity => Current.Identity;

    public ActivationService Service => Current.Service;

    public RpcServerOptions RpcOptions => Current.RpcOptions;

    /// <summary>Store of the loaded runtime, or null before start-up finished (for /healthz/ready).</summary>
    public IActivationStore? StoreOrNull => _loaded?.Store;

    /// <summary>The store's node registry once loaded; null before start-up finished or when the store keeps none.</summary>
    public INodeRegistry? RegistryOrNull => _loaded?.Store as INodeRegistry;

    private Loaded Current => _loaded ?? throw new InvalidOperationException("The node has not finished starting.");

    internal void Load(IActivationStore store, FarmIdentity identity, ActivationService service, RpcServerOptions rpcOptions) =>
        _loaded = new Loaded(store, identity, service, rpcOptions);

    internal Loaded? Unload()
    {
        var loaded = _loaded;
        _loaded = null;
        return loaded;
    }

    internal sealed record Loaded(IActivationStore Store, FarmIdentity Identity, ActivationService Service, RpcServerOptions RpcOptions);
}
