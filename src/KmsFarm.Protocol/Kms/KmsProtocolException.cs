using System.Diagnostics.CodeAnalysis;

namespace KmsFarm.Protocol.Kms;

/// <summary>A peer sent bytes that break the KMS or RPC protocol. The message says what was wrong.</summary>
public sealed class KmsProtocolException : Exception
{
    public KmsProtocolException()
    {
    }

    public KmsProtocolException(string message)
        : base(message)
    {
    }

    public KmsProtocolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The status of the RPC fault PDU the peer answered with, when that is what this exception reports.</summary>
    public uint? FaultStatus { get; init; }

    [DoesNotReturn]
    public static void Throw(string message) => throw new KmsProtocolException(message);
}
