namespace KmsFarm.Node.Configuration;

/// <summary>Which client addresses may talk KMS to the node. Section <c>KmsFarm:Access</c>. A deny match wins; otherwise
/// the address must match an allow entry.</summary>
public sealed class AccessControlOptions
{
    public const string SectionName = "KmsFarm:Access";

    /// <summary>Loopback, RFC 1918, unique-local and link-local: a lab KMS host answers private networks only.</summary>
    public static readonly IReadOnlyList<string> DefaultAllow =
        ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10"];

    /// <summary>CIDR ranges allowed. Empty means <see cref="DefaultAllow"/>.</summary>
    public List<string> Allow { get; set; } = [];

    /// <summary>CIDR ranges refused even if allowed. Default none.</summary>
    public List<string> Deny { get; set; } = [];

    public IReadOnlyList<string> EffectiveAllow => Allow.Count == 0 ? DefaultAllow : Allow;
}
