namespace KmsFarm.Client;

/// <summary>A host's backoff as kept between runs.</summary>
/// <param name="Host">The host's name as the client names it (<c>host:port</c>).</param>
/// <param name="Failures">Consecutive failures.</param>
/// <param name="RetryAt">When it may be tried again.</param>
public sealed record HostBackoffEntry(string Host, int Failures, DateTimeOffset RetryAt);
