namespace KmsFarm.Client;

/// <summary>The TCP connection to a KMS host could not be opened (refused, unreachable, name not resolved, or the
/// connect timeout elapsed). Nothing was sent; another host may be tried.</summary>
public sealed class KmsConnectException : IOException
{
    public KmsConnectException()
    {
    }

    public KmsConnectException(string message)
        : base(message)
    {
    }

    public KmsConnectException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public bool IsTimeout { get; init; }
}
