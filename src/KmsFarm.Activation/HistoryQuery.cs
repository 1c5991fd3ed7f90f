using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation;

/// <summary>A page of the activation history, newest first.</summary>
/// <param name="From">Only rows at or after this time; null for no lower bound.</param>
/// <param name="To">Only rows before this time; null for no upper bound.</param>
/// <param name="Group">Only this product group's rows; null for all (requests of no group included).</param>
/// <param name="Before">Only rows older than the row with this id (the previous page's <see cref="HistoryPage.Next"/>).</param>
public sealed record HistoryQuery(DateTimeOffset? From, DateTimeOffset? To, ProductGroup? Group, long? Before, int Limit)
{
    /// <summary>The largest page a store returns.</summary>
    public const int MaxLimit = 500;
}
