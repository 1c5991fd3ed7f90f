using KmsFarm.Activation;
using KmsFarm.Protocol.Rpc;

namespace KmsFarm.Node.Runtime;

/// <summary>What the node serves with once start-up has loaded it: the store, the farm identity, the activation service
/// and the RPC options derived from the identity. Connections are served only while <see cref="IsServing"/>: from the
/// moment every hosted service (the silo and Kestrel included) has started until the node begins to stop.</summary>
public sealed class NodeRuntime
{
    private volatile Loaded? _loaded;
    private volatile bool _serving;

    public bool IsLoaded => _loaded is not null;

    /// <summary>Loaded, the silo joined its cluster and the node is not stopping.</summary>
    public bool IsServing => _serving && _loaded is not null;

    public IActivationStore Store => Current.Store;

    public FarmIdentity Identity => Current.Identity;

    public ActivationService Service => Current.Service;

    public RpcServerOptions RpcOptions => Current.RpcOptions;

    /// <summary>Store of the loaded runtime, or null before start-up finished (for /healthz/ready).</summary>
    public IActivationStore? StoreOrNull => _loaded?.Store;

    private Loaded Current => _loaded ?? throw new InvalidOperationException("The node has not finished starting.");

    internal void Load(IActivationStore store, FarmIdentity identity, ActivationService service, RpcServerOptions rpcOptions) =>
        _loaded = new Loaded(store, identity, service, rpcOptions);

    internal void SetServing(bool serving) => _serving = serving;

    internal Loaded? Unload()
    {
        _serving = false;
        var loaded = _loaded;
        _loaded = null;
        return loaded;
    }

    internal sealed record Loaded(IActivationStore Store, FarmIdentity Identity, ActivationService Service, RpcServerOptions RpcOptions);
}
