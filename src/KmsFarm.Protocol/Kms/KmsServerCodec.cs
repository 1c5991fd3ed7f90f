using System.Buffers.Binary;
using System.Security.Cryptography;
using KmsFarm.Protocol.Crypto;

namespace KmsFarm.Protocol.Kms;

/// <summary>Server side of the KMS message layer: decode and validate a request payload, encode the response.</summary>
public static class KmsServerCodec
{
    /// <summary>Upper bound of any encoded response (V6 with a 63-character ePID).</summary>
    public const int MaxResponseLength = 320;

    /// <summary>A V4 request: base ‖ MAC.</summary>
    public const int V4RequestLength = KmsRequest.Size + 16;

    /// <summary>A V5/V6 request: version ‖ IV ‖ 240 bytes of ciphertext.</summary>
    public const int EncryptedRequestLength = 4 + 16 + KmsRequest.Size + 4;

    /// <summary>Decodes <paramref name="payload"/> (the bytes of the RPC stub's request array). Returns
    /// <see cref="KmsHResults.Success"/> or the HRESULT to answer with (<see cref="KmsHResults.InvalidData"/> for a bad
    /// version, a wrong length, a wrong V4 MAC, bad V5/V6 padding, an inner version that differs from the outer one or
    /// N_Policy above 1000). Never throws on bad input; allocates nothing.</summary>
    public static uint DecodeRequest(ReadOnlySpan<byte> payload, out KmsServerRequest request) =>
        DecodeRequest(payload, KmsKeyMaterial.Default, out request);

    /// <summary>Encodes the response with a fresh salt and (V6) IV from the CSPRNG; returns the bytes written.</summary>
    public static int EncodeResponse(in KmsServerRequest request, in KmsResponseFields fields, Span<byte> destination) =>
        EncodeResponse(request, fields, KmsKeyMaterial.Default, destination);

    /// <summary>Deterministic form for tests and vectors: the caller supplies the salt (V5/V6, 16 bytes) and the V6 plain
    /// IV (16 bytes); V4 ignores both. Throws <see cref="ArgumentException"/> when the plain IV would encrypt to the
    /// request's wire IV, which a V6 client rejects.</summary>
    public static int EncodeResponse(
        in KmsServerRequest request, in KmsResponseFields fields, ReadOnlySpan<byte> salt, ReadOnlySpan<byte> plainIv, Span<byte> destination) =>
        EncodeResponse(request, fields, salt, plainIv, KmsKeyMaterial.Default, destination);

    internal static uint DecodeRequest(ReadOnlySpan<byte> payload, KmsKeyMaterial keys, out KmsServerRequest request)
    {
        request = default;
        if (payload.Length < 4)
        {
            return KmsHResults.InvalidData;
        }

        uint outer = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        uint major = outer >> 16;
        if ((outer & 0xFFFF) != 0 || major is < 4 or > 6)
        {
            return KmsHResults.InvalidData;
        }

        request.Version = (KmsProtocolVersion)major;
        request.OuterVersion = outer;
        if (major == 4)
        {
            if (payload.Length != V4RequestLength)
            {
                return KmsHResults.InvalidData;
            }

            Span<byte> mac = stackalloc byte[16];
            keys.V4Mac.CbcMac(payload[..KmsRequest.Size], mac);
            if (!CryptographicOperations.FixedTimeEquals(mac, payload[KmsRequest.Size..]))
            {
                return KmsHResults.InvalidData;
            }

            KmsRequest.Read(payload, out request.Request);
        }
        else
        {
            if (payload.Length != EncryptedRequestLength)
            {
                return KmsHResults.InvalidData;
            }

            RijndaelKey key = major == 5 ? keys.V5 : keys.V6;
            ReadOnlySpan<byte> iv = payload.Slice(4, 16);
            Span<byte> plain = stackalloc byte[KmsRequest.Size + 4];
            key.DecryptCbc(iv, payload[20..], plain);
            if (BinaryPrimitives.ReadUInt32LittleEndian(plain[KmsRequest.Size..]) != 0x04040404)
            {
                return KmsHResults.InvalidData;
            }

            iv.CopyTo(request.RequestIv.AsSpan());
            key.DecryptBlock(iv, request.DecryptedRequestIv.AsSpan());
            KmsRequest.Read(plain, out request.Request);
        }

        if (request.Request.Version != outer || request.Request.RequiredClientCount > 1000)
        {
            return KmsHResults.InvalidData;
        }

        return KmsHResults.Success;
    }

    internal static int EncodeResponse(in KmsServerRequest request, in KmsResponseFields fields, KmsKeyMaterial keys, Span<byte> destination)
    {
        if (request.Version == KmsProtocolVersion.V4)
        {
            return EncodeResponse(request, fields, default, default, keys, destination);
        }

        Span<byte> random = stackalloc byte[32];
        while (true)
        {
            RandomNumberGenerator.Fill(random);
            int written = EncodeCore(request, fields, random[..16], random[16..], keys, destination);
            if (written > 0)
            {
                return written;
            }
        }
    }

    internal static int EncodeResponse(
        in KmsServerRequest request,
        in KmsResponseFields fields,
        ReadOnlySpan<byte> salt,
        ReadOnlySpan<byte> plainIv,
        KmsKeyMaterial keys,
        Span<byte> destination)
    {
        int written = EncodeCore(request, fields, salt, plainIv, keys, destination);
        if (written < 0)
        {
            throw new ArgumentException("The V6 plain IV encrypts to the request IV; a client would reject the response.", nameof(plainIv));
        }

        return written;
    }

    /// <summary>Size of the response for <paramref name="version"/> and an ePID of <paramref name="epidChars"/> characters.</summary>
    public static int GetResponseLength(KmsProtocolVersion version, int epidChars)
    {
        int responseBase = KmsResponseBase.GetSize(epidChars);
        return version switch
        {
            KmsProtocolVersion.V4 => responseBase + 16,
            KmsProtocolVersion.V5 => 20 + Pkcs7.PaddedLength(responseBase + 48),
            KmsProtocolVersion.V6 => 4 + Pkcs7.PaddedLength(responseBase + 104),
            _ => throw new ArgumentOutOfRangeException(nameof(version)),
        };
    }

    /// <summary>Returns the length written, or -1 when a V6 plain IV gives a wire IV equal to the request IV.</summary>
    private static int EncodeCore(
        in KmsServerRequest request,
        in KmsResponseFields fields,
        ReadOnlySpan<byte> salt,
        ReadOnlySpan<byte> plainIv,
        KmsKeyMaterial keys,
        Span<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(fields.Epid, nameof(fields));
        int length = GetResponseLength(request.Version, fields.Epid.Length);
        if (destination.Length < length)
        {
            throw new ArgumentException($"The response needs {length} bytes.", nameof(destination));
        }

        ref readonly KmsRequest plain = ref request.Request;
        if (request.Version == KmsProtocolVersion.V4)
        {
            int size = WriteBase(plain, fields, destination);
            keys.V4Mac.CbcMac(destination[..size], destination.Slice(size, 16));
            return length;
        }

        if (salt.Length != 16 || (request.Version == KmsProtocolVersion.V6 && plainIv.Length != 16))
        {
            throw new ArgumentException("Salt and plain IV are 16 bytes each.");
        }

        BinaryPrimitives.WriteUInt32LittleEndian(destination, request.OuterVersion);
        ReadOnlySpan<byte> requestIv = request.RequestIv.AsReadOnlySpan();
        if (request.Version == KmsProtocolVersion.V5)
        {
            // version ‖ IVreq ‖ CBC(K5, IVreq, R ‖ T ‖ H ‖ pad).
            requestIv.CopyTo(destination[4..]);
            Span<byte> body = destination[20..length];
            int offset = WriteBase(plain, fields, body);
            WriteSaltFields(salt, request.DecryptedRequestIv.AsReadOnlySpan(), body[offset..]);
            Pkcs7.Pad(body, offset + 48);
            keys.V5.EncryptCbc(requestIv, body, body);
            return length;
        }

        // version ‖ CBC(K6*, 0, IVplain ‖ R ‖ T ‖ H ‖ HwId ‖ D ‖ M ‖ pad).
        Span<byte> x = destination[4..length];
        plainIv.CopyTo(x);
        int r = 16 + WriteBase(plain, fields, x[16..]);
        WriteSaltFields(salt, request.DecryptedRequestIv.AsReadOnlySpan(), x[r..]);
        fields.HwId.WriteTo(x[(r + 48)..]);
        request.DecryptedRequestIv.AsReadOnlySpan().CopyTo(x[(r + 56)..]);
        KmsHmac.Compute(KmsHmac.TimeSlot(plain.ClientTime), x[..(r + 72)], x.Slice(r + 72, KmsHmac.Size));
        Pkcs7.Pad(x, r + 88);
        Span<byte> zeroIv = stackalloc byte[16];
        zeroIv.Clear();
        keys.V6.EncryptCbc(zeroIv, x, x);
        return x[..16].SequenceEqual(requestIv) ? -1 : length;
    }

    private static int WriteBase(in KmsRequest request, in KmsResponseFields fields, Span<byte> destination) =>
        KmsResponseBase.Write(
            request.Version,
            fields.Epid,
            request.ClientMachineId,
            request.ClientTime,
            fields.CurrentCount,
            fields.ActivationInterval,
            fields.RenewalInterval,
            destination);

    /// <summary>T = S ⊕ D, H = SHA-256(S).</summary>
    private static void WriteSaltFields(ReadOnlySpan<byte> salt, ReadOnlySpan<byte> decryptedRequestIv, Span<byte> destination)
    {
        for (int i = 0; i < 16; i++)
        {
            destination[i] = (byte)(salt[i] ^ decryptedRequestIv[i]);
        }

        SHA256.HashData(salt, destination.Slice(16, 32));
    }
}
