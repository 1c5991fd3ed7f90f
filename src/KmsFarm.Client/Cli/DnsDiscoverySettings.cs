using KmsFarm.DnsSrv;

namespace KmsFarm.Client.Cli;

/// <summary>Find the KMS hosts through DNS: <c>--dns-domain</c> and <c>--dns-server</c> (null: the system's).</summary>
internal sealed record DnsDiscoverySettings(string Domain, DnsServerAddress? Server);
