using System.Globalization;
using System.Net;

namespace KmsFarm.DnsSrv;

/// <summary>What one KMS host publishes in one domain: <c>_vlmcs._tcp.DOMAIN SRV PRIORITY WEIGHT PORT TARGET</c> and the
/// target's A/AAAA records, all with <paramref name="Ttl"/>.</summary>
/// <param name="Addresses">The target's addresses (A for IPv4, AAAA for IPv6); empty to publish the SRV record only.</param>
public sealed record SrvRegistration(
    string Domain, ushort Priority, ushort Weight, ushort Port, string Target, IReadOnlyList<IPAddress> Addresses, TimeSpan Ttl)
{
    /// <summary><c>_vlmcs._tcp.DOMAIN</c>.</summary>
    public string ServiceName => DnsNames.KmsServiceName(Domain);

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{ServiceName} SRV {Priority} {Weight} {Port} {DnsNames.Normalize(Target)}");
}
