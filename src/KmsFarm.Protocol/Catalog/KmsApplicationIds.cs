namespace KmsFarm.Protocol.Catalog;

/// <summary>The three KMS application ids a client sends (PROTOCOL-NOTES §10.2): each is one counting domain.</summary>
public static class KmsApplicationIds
{
    public static readonly Guid Windows = new("55c92734-d682-4d71-983e-d6ec3f16059f");
    public static readonly Guid Office2010 = new("59a52881-a989-479d-af46-f275c6370663");
    public static readonly Guid Office2013Plus = new("0ff1ce15-a989-479d-af46-f275c6370663");

    /// <summary>The product group counted for <paramref name="applicationId"/>; false for any other id.</summary>
    public static bool TryGetGroup(Guid applicationId, out ProductGroup group)
    {
        group = applicationId == Windows ? ProductGroup.Windows
            : applicationId == Office2013Plus ? ProductGroup.Office2013Plus
            : applicationId == Office2010 ? ProductGroup.Office2010
            : (ProductGroup)(-1);
        return group >= 0;
    }
}
