using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Grains;

/// <summary>The product groups whose grain is activated on this silo (a per-silo singleton the grains keep up to date),
/// so a stopping node knows which groups to hand over. Thread-safe.</summary>
public sealed class LocalProductGroups
{
    private readonly Lock _lock = new();
    private readonly HashSet<ProductGroup> _groups = [];
    private volatile bool _closed;

    /// <summary>True once the node has begun to stop: a product-group grain activated here from now on (a call placed on
    /// this silo while it hands its groups over) takes no batch and leaves at once, so no group is left on a silo that is
    /// about to shut down.</summary>
    public bool IsClosed => _closed;

    /// <summary>Marks the silo closed for product groups (see <see cref="IsClosed"/>).</summary>
    public void Close() => _closed = true;

    /// <summary>The groups activated here now.</summary>
    public IReadOnlyList<ProductGroup> Current
    {
        get
        {
            lock (_lock)
            {
                return [.. _groups];
            }
        }
    }

    internal void Activated(ProductGroup group)
    {
        lock (_lock)
        {
            _groups.Add(group);
        }
    }

    internal void Deactivated(ProductGroup group)
    {
        lock (_lock)
        {
            _groups.Remove(group);
        }
    }
}
