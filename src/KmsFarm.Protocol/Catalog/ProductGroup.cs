namespace KmsFarm.Protocol.Catalog;

/// <summary>A counting domain of a KMS host: one CMID cache per KMS application id.</summary>
public enum ProductGroup
{
    Windows = 0,
    Office2010 = 1,
    Office2013Plus = 2,
}
