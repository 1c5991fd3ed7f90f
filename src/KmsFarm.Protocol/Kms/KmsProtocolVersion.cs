namespace KmsFarm.Protocol.Kms;

/// <summary>The KMS message format, chosen by the major version in the first four bytes of a request.</summary>
public enum KmsProtocolVersion : ushort
{
    V4 = 4,
    V5 = 5,
    V6 = 6,
}
