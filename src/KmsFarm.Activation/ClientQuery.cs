using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation;

/// <summary>A page of the client inventory, most recently seen first.</summary>
/// <param name="Group">Only this product group's clients; null for all.</param>
/// <param name="MachineName">Only machines whose name contains this text (ignoring ASCII case); null for all.</param>
/// <param name="SeenSince">Only clients seen at or after this time; null for all.</param>
public sealed record ClientQuery(ProductGroup? Group, string? MachineName, DateTimeOffset? SeenSince, int Offset, int Limit)
{
    /// <summary>The largest page a store returns.</summary>
    public const int MaxLimit = 500;
}
