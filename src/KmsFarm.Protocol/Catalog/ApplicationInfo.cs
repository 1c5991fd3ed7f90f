namespace KmsFarm.Protocol.Catalog;

/// <summary>A KMS application (Windows, Office 2010, Office 2013 and later): one CMID cache per application.</summary>
/// <param name="Id">The application id a client sends.</param>
/// <param name="Group">The product group whose ledger counts this application's clients.</param>
/// <param name="FallbackCsvlkId">The CSVLK that answers a KMS counted id the catalog does not know.</param>
public sealed record ApplicationInfo(Guid Id, string Name, ProductGroup Group, string FallbackCsvlkId);
