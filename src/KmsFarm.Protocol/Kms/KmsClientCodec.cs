namespace KmsFarm.Protocol.Kms;

/// <summary>Client side of the KMS message layer: build a request, verify a response as strictly as vlmcs does.</summary>
public static class KmsClientCodec
{
    public const int MaxRequestLength = 260;

    /// <summary>Encodes <paramref name="request"/> for <paramref name="version"/> (fresh IV from the CSPRNG) and returns the
    /// bytes written; <paramref name="state"/> is what <see cref="DecodeResponse"/> needs.</summary>
    public static int EncodeRequest(KmsProtocolVersion version, in KmsRequest request, Span<byte> destination, out KmsClientState state) =>
        throw new NotImplementedException();

    /// <summary>Decrypts and checks a response: sizes, versions, MAC/HMAC, IVs, padding, echoes, ePID format.
    /// Throws <see cref="KmsProtocolException"/> naming the first check that failed.</summary>
    public static KmsResponse DecodeResponse(ReadOnlySpan<byte> payload, in KmsClientState state) => throw new NotImplementedException();
}
