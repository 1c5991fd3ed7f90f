namespace KmsFarm.Activation;

/// <summary>One page of the activation history, newest first.</summary>
/// <param name="Next">The <see cref="HistoryQuery.Before"/> of the next (older) page; null on the last page.</param>
public sealed record HistoryPage(IReadOnlyList<HistoryRow> Items, long? Next);

/// <summary>A history row and its id (ascending in insertion order).</summary>
public sealed record HistoryRow(long Id, ActivationRecord Record);
