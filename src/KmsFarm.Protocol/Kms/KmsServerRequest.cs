namespace KmsFarm.Protocol.Kms;

/// <summary>A decoded request as the server holds it between decoding and answering: the protocol version,
/// the plaintext base and the crypto state the response needs (request IV and its decryption for V5/V6).</summary>
public struct KmsServerRequest
{
    public KmsProtocolVersion Version;
    /// <summary>The unencrypted outer version (minor | major &lt;&lt; 16) copied into the response.</summary>
    public uint OuterVersion;
    public KmsRequest Request;
    public Block16 RequestIv;
    public Block16 DecryptedRequestIv;
}
