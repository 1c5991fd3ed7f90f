namespace KmsFarm.Node.Configuration;

/// <summary>The read-only status API and page on the HTTP endpoint. Section <c>KmsFarm:Api</c>.</summary>
public sealed class ApiOptions
{
    public const string SectionName = "KmsFarm:Api";

    /// <summary>A file whose content (surrounding white space trimmed) is the admin token: when set, <c>/api/*</c> and the
    /// <c>/status</c> page answer only requests that present it (<c>Authorization: Bearer TOKEN</c>, or the page's login
    /// cookie). <c>/metrics</c> and <c>/healthz/*</c> stay open. Null (default): no token, everything open.</summary>
    public string? AdminTokenFile { get; set; }
}
