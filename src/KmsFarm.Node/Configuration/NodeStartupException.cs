namespace KmsFarm.Node.Configuration;

/// <summary>The settings are valid but this machine or the database refuses them (a port already in use, an address that
/// is not this machine's, a database that does not exist or refuses the credentials). The message is one line naming
/// the setting; the node exits non-zero with it, without a stack trace.</summary>
public sealed class NodeStartupException : Exception
{
    public NodeStartupException(string message)
        : base(message)
    {
    }

    public NodeStartupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public NodeStartupException()
    {
    }
}
