namespace KmsFarm.Node.Configuration;

/// <summary>Publishing this node in DNS as a KMS host, like a Windows KMS host does: <c>_vlmcs._tcp.DOMAIN</c> SRV records
/// (and the target's A/AAAA records) by dynamic update. Off unless <see cref="Publish"/> names a domain. Section
/// <c>KmsFarm:Dns</c>.</summary>
public sealed class DnsPublishingOptions
{
    public const string SectionName = "KmsFarm:Dns";

    /// <summary>The registration TTL of a Windows DNS client (20 minutes): short enough that a stopped host whose records
    /// could not be removed drops out of caches soon, long enough not to load the server.</summary>
    public static readonly TimeSpan DefaultTtl = TimeSpan.FromMinutes(20);

    /// <summary>A Windows KMS host re-registers every 24 hours; a node does it hourly, so records removed by hand or lost
    /// with a zone come back within the hour.</summary>
    public static readonly TimeSpan DefaultRefreshInterval = TimeSpan.FromHours(1);

    public static readonly TimeSpan MinTtl = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan MaxTtl = TimeSpan.FromDays(1);

    public static readonly TimeSpan MinRefreshInterval = TimeSpan.FromSeconds(1);

    public static readonly TimeSpan MaxRefreshInterval = TimeSpan.FromDays(7);

    /// <summary>Domains to publish in, each <c>DOMAIN[:PRIORITY:WEIGHT]</c> (priority and weight 0..65535, default 0 and
    /// 0, like the entries of a Windows host's DnsDomainPublishList). Empty (default): nothing is published.</summary>
    public List<string> Publish { get; set; } = [];

    /// <summary>The DNS server that accepts the updates, <c>HOST[:PORT]</c> (port 53 by default). Required when publishing.</summary>
    public string? Server { get; set; }

    /// <summary>A BIND key file (<c>tsig-keygen -a hmac-sha256 NAME</c>) whose key signs the updates (TSIG); read at
    /// start. Null: updates are unsigned, which a server accepts only when its policy allows this address.</summary>
    public string? TsigKeyFile { get; set; }

    /// <summary>The SRV target. A name with a dot is used as is in every domain; a single label is put before each
    /// domain. Default: the machine name, lower-cased, before each domain (<c>kms1.lab.example</c>).</summary>
    public string? HostName { get; set; }

    /// <summary>TTL of the published records. Default 20 minutes, range 1 s..1 day.</summary>
    public TimeSpan Ttl { get; set; } = DefaultTtl;

    /// <summary>How often the records are published again. Default 1 hour, range 1 s..7 days; after a failure the next
    /// attempt comes after at most 5 minutes.</summary>
    public TimeSpan RefreshInterval { get; set; } = DefaultRefreshInterval;

    public bool Enabled => Publish.Count > 0;
}
