namespace KmsFarm.DnsSrv;

/// <summary>A DNS lookup gave no usable answer (no response, an error code, or a name that does not exist); the message
/// says which, naming the server.</summary>
public sealed class DnsLookupException : Exception
{
    public DnsLookupException()
    {
    }

    public DnsLookupException(string message)
        : base(message)
    {
    }

    public DnsLookupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The response code (NXDOMAIN, SERVFAIL, REFUSED, …), or null when the server did not answer.</summary>
    public string? ResponseCode { get; init; }
}
