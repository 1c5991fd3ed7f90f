namespace KmsFarm.Protocol.Catalog;

/// <summary>The catalog JSON is malformed or inconsistent; the message names the entry at fault.</summary>
public sealed class CatalogFormatException : Exception
{
    public CatalogFormatException()
    {
    }

    public CatalogFormatException(string message)
        : base(message)
    {
    }

    public CatalogFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
