namespace KmsFarm.Activation;

/// <summary>One page of the client inventory and how many clients match the query in all.</summary>
public sealed record ClientPage(long Total, IReadOnlyList<InventoryClient> Items);
