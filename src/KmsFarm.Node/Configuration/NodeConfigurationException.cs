namespace KmsFarm.Node.Configuration;

/// <summary>A setting is missing or invalid; the message names it (one line per bad setting, each naming its key and
/// flag and what is accepted). The node exits non-zero with this message.</summary>
public sealed class NodeConfigurationException : Exception
{
    public NodeConfigurationException(string message)
        : base(message)
    {
    }

    public NodeConfigurationException(IEnumerable<string> failures)
        : base(string.Join(Environment.NewLine, failures))
    {
    }

    public NodeConfigurationException()
    {
    }

    public NodeConfigurationException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
