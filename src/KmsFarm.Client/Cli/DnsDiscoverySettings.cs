using KmsFarm.DnsSrv;

namespace KmsFarm.Client.Cli;

/// <summary>Find the KMS hosts through DNS: <c>--dns-domain</c>, <c>--dns-server</c> (null: the system's) and, for
/// <c>activate</c>, <c>--dns-cache</c> (the file that remembers the host that answered).</summary>
internal sealed record DnsDiscoverySettings(string Domain, DnsServerAddress? Server, string? CachePath = null);
