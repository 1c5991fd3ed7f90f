using System.Globalization;
using System.Net;

namespace KmsFarm.DnsSrv;

/// <summary>One SRV record found for a service, with its target's addresses as the same DNS server gave them.</summary>
public sealed record SrvTarget(ushort Priority, ushort Weight, ushort Port, string Target, IReadOnlyList<IPAddress> Addresses)
{
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Target}:{Port} (priority {Priority}, weight {Weight})");
}
