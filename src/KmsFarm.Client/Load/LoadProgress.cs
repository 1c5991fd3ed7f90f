namespace KmsFarm.Client.Load;

/// <summary>Running totals of a load run, for the once-a-second progress line.</summary>
public readonly record struct LoadProgress(TimeSpan Elapsed, long Requests, long Activations, long Errors);
