using System.CommandLine;
using KmsFarm.DnsSrv;

namespace KmsFarm.Client.Cli;

/// <summary>The options that replace <c>--host</c>/<c>--hosts</c> with DNS discovery, shared by <c>activate</c> and
/// <c>load</c>, and the rule that exactly one way of naming hosts is given.</summary>
internal sealed class DnsOptions
{
    public DnsOptions()
    {
        Domain.CustomParser = CliParsers.DnsDomain;
        Server.CustomParser = CliParsers.DnsServer;
    }

    public Option<string> Domain { get; } = new("--dns-domain")
    {
        Description = "Find the KMS hosts in DNS: the SRV records of _vlmcs._tcp.DOMAIN, tried in RFC 2782 order (instead of --host).",
        HelpName = "DOMAIN",
    };

    public Option<DnsServerAddress> Server { get; } = new("--dns-server")
    {
        Description = "DNS server for --dns-domain as HOST[:PORT] (default: the system's).",
        HelpName = "HOST[:PORT]",
    };

    /// <summary>Adds the options and the rule: exactly one of <paramref name="hosts"/> and <c>--dns-domain</c>; the other
    /// DNS options only with <c>--dns-domain</c>.</summary>
    public void AddTo(Command command, Option hosts, params Option[] dnsOnly)
    {
        command.Options.Add(Domain);
        command.Options.Add(Server);
        command.Validators.Add(result =>
        {
            bool hasHosts = result.GetResult(hosts) is not null;
            bool hasDomain = result.GetResult(Domain) is not null;
            if (hasHosts == hasDomain)
            {
                result.AddError($"Give exactly one of {hosts.Name} (host:port) or --dns-domain DOMAIN.");
            }

            foreach (var option in dnsOnly.Prepend(Server))
            {
                if (!hasDomain && result.GetResult(option) is not null)
                {
                    result.AddError($"{option.Name} goes with --dns-domain.");
                }
            }
        });
    }

    public DnsDiscoverySettings? GetSettings(ParseResult parse) =>
        parse.GetValue(Domain) is { } domain ? new DnsDiscoverySettings(domain, parse.GetValue(Server)) : null;
}
