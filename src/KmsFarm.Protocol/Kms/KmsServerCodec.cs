namespace KmsFarm.Protocol.Kms;

/// <summary>Server side of the KMS message layer: decode and validate a request payload, encode the response.</summary>
public static class KmsServerCodec
{
    /// <summary>Upper bound of any encoded response (V6 with a 63-character ePID).</summary>
    public const int MaxResponseLength = 320;

    /// <summary>Decodes <paramref name="payload"/> (the bytes of the RPC stub's request array). Returns
    /// <see cref="KmsHResults.Success"/> or the HRESULT to answer with (<see cref="KmsHResults.InvalidData"/> for a bad
    /// version, a wrong length or N_Policy above 1000). Never throws on bad input; allocates nothing.</summary>
    public static uint DecodeRequest(ReadOnlySpan<byte> payload, out KmsServerRequest request) => throw new NotImplementedException();

    /// <summary>Encodes the response with a fresh salt and (V6) IV from the CSPRNG; returns the bytes written.</summary>
    public static int EncodeResponse(in KmsServerRequest request, in KmsResponseFields fields, Span<byte> destination) =>
        throw new NotImplementedException();

    /// <summary>Deterministic form for tests and vectors: the caller supplies the salt and the V6 plain IV.</summary>
    public static int EncodeResponse(
        in KmsServerRequest request, in KmsResponseFields fields, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> plainIv, Span<byte> destination) =>
        throw new NotImplementedException();
}
