using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Client;

/// <summary>The three KMS application ids (PROTOCOL-NOTES §10.2).</summary>
public static class ApplicationIds
{
    public static readonly Guid Windows = new("55c92734-d682-4d71-983e-d6ec3f16059f");
    public static readonly Guid Office2010 = new("59a52881-a989-479d-af46-f275c6370663");
    public static readonly Guid Office2013Plus = new("0ff1ce15-a989-479d-af46-f275c6370663");

    public static ProductGroup GroupOf(Guid applicationId) =>
        applicationId == Office2010 ? ProductGroup.Office2010 : applicationId == Office2013Plus ? ProductGroup.Office2013Plus : ProductGroup.Windows;
}
