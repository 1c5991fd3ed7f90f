namespace KmsFarm.Node.Configuration;

/// <summary>A setting is missing or invalid; the message names it. The node exits non-zero with this message.</summary>
public sealed class NodeConfigurationException : Exception
{
    public NodeConfigurationException(string message)
        : base(message)
    {
    }

    public NodeConfigurationException(IEnumerable<string> failures)
        : base("Invalid configuration:" + Environment.NewLine + "  " + string.Join(Environment.NewLine + "  ", failures))
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
