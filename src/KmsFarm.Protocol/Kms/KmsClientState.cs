namespace KmsFarm.Protocol.Kms;

/// <summary>What a client keeps between sending a request and checking its response.</summary>
public struct KmsClientState
{
    public KmsProtocolVersion Version;
    public KmsRequest Request;
    public Block16 RequestIv;
    public Block16 DecryptedRequestIv;
}
