using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using KmsFarm.Protocol.Crypto;

namespace KmsFarm.Protocol.Kms;

/// <summary>Client side of the KMS message layer: build a request, verify a response as strictly as vlmcs does.</summary>
public static class KmsClientCodec
{
    public const int MaxRequestLength = 260;

    /// <summary>Encodes <paramref name="request"/> for <paramref name="version"/> (fresh IV from the CSPRNG) and returns the
    /// bytes written; <paramref name="state"/> is what <see cref="DecodeResponse(ReadOnlySpan{byte}, in KmsClientState)"/> needs. The version fields of the base
    /// are set to <paramref name="version"/>.0.</summary>
    public static int EncodeRequest(KmsProtocolVersion version, in KmsRequest request, Span<byte> destination, out KmsClientState state)
    {
        Span<byte> iv = stackalloc byte[16];
        RandomNumberGenerator.Fill(iv);
        return EncodeRequest(version, request, iv, KmsKeyMaterial.Default, destination, out state);
    }

    /// <summary>Deterministic form: the caller supplies the V5/V6 request IV (ignored for V4).</summary>
    public static int EncodeRequest(
        KmsProtocolVersion version, in KmsRequest request, ReadOnlySpan<byte> iv, Span<byte> destination, out KmsClientState state) =>
        EncodeRequest(version, request, iv, KmsKeyMaterial.Default, destination, out state);

    /// <summary>Decrypts and checks a response: sizes, versions, MAC/HMAC, IVs, padding, echoes, ePID format.
    /// Throws <see cref="KmsProtocolException"/> naming the first check that failed.</summary>
    public static KmsResponse DecodeResponse(ReadOnlySpan<byte> payload, in KmsClientState state) =>
        DecodeResponse(payload, state, KmsKeyMaterial.Default);

    internal static int EncodeRequest(
        KmsProtocolVersion version, in KmsRequest request, ReadOnlySpan<byte> iv, KmsKeyMaterial keys, Span<byte> destination, out KmsClientState state)
    {
        if (version is < KmsProtocolVersion.V4 or > KmsProtocolVersion.V6)
        {
            throw new ArgumentOutOfRangeException(nameof(version));
        }

        int length = version == KmsProtocolVersion.V4 ? KmsServerCodec.V4RequestLength : KmsServerCodec.EncryptedRequestLength;
        if (destination.Length < length)
        {
            throw new ArgumentException($"The request needs {length} bytes.", nameof(destination));
        }

        state = default;
        state.Version = version;
        state.Request = request;
        state.Request.MinorVersion = 0;
        state.Request.MajorVersion = (ushort)version;

        if (version == KmsProtocolVersion.V4)
        {
            state.Request.WriteTo(destination);
            keys.V4Mac.CbcMac(destination[..KmsRequest.Size], destination.Slice(KmsRequest.Size, 16));
            return length;
        }

        if (iv.Length != 16)
        {
            throw new ArgumentException("The request IV is 16 bytes.", nameof(iv));
        }

        RijndaelKey key = version == KmsProtocolVersion.V5 ? keys.V5 : keys.V6;
        BinaryPrimitives.WriteUInt32LittleEndian(destination, state.Request.Version);
        iv.CopyTo(destination[4..]);
        Span<byte> body = destination[20..length];
        state.Request.WriteTo(body);
        Pkcs7.Pad(body, KmsRequest.Size);
        key.EncryptCbc(iv, body, body);

        iv.CopyTo(state.RequestIv.AsSpan());
        key.DecryptBlock(iv, state.DecryptedRequestIv.AsSpan());
        return length;
    }

    internal static KmsResponse DecodeResponse(ReadOnlySpan<byte> payload, in KmsClientState state, KmsKeyMaterial keys)
    {
        uint version = (uint)state.Version << 16;
        KmsResponseBase responseBase;
        HardwareId? hwId = null;
        switch (state.Version)
        {
            case KmsProtocolVersion.V4:
                responseBase = DecodeV4(payload, keys);
                break;
            case KmsProtocolVersion.V5:
                responseBase = DecodeV5(payload, state, version, keys);
                break;
            case KmsProtocolVersion.V6:
                responseBase = DecodeV6(payload, state, version, keys, out var hw);
                hwId = hw;
                break;
            default:
                throw new ArgumentException($"Unknown protocol version {state.Version}.", nameof(state));
        }

        if (responseBase.Version != version)
        {
            Fail($"Response base version 0x{responseBase.Version:X8} differs from the request version 0x{version:X8}.");
        }

        if (responseBase.ClientMachineId != state.Request.ClientMachineId)
        {
            Fail($"CMID not echoed: sent {state.Request.ClientMachineId}, got {responseBase.ClientMachineId}.");
        }

        if (responseBase.ClientTime != state.Request.ClientTime)
        {
            Fail($"ClientTime not echoed: sent {state.Request.ClientTime}, got {responseBase.ClientTime}.");
        }

        if (!EpidFormat.IsWellFormed(responseBase.Epid))
        {
            Fail($"ePID '{responseBase.Epid}' is not in the format PPPPP-GGGGG-KKK-NNNNNN-03-LCID-BUILD.0000-DDDYYYY.");
        }

        return new KmsResponse(
            state.Version,
            responseBase.Epid,
            responseBase.ClientMachineId,
            responseBase.ClientTime,
            responseBase.CurrentCount,
            responseBase.ActivationInterval,
            responseBase.RenewalInterval,
            hwId);
    }

    private static KmsResponseBase DecodeV4(ReadOnlySpan<byte> payload, KmsKeyMaterial keys)
    {
        int size = KmsResponseBase.ReadSize(payload);
        if (payload.Length != size + 16)
        {
            Fail($"V4 response is {payload.Length} bytes; 60 + P = {size + 16} expected.");
        }

        Span<byte> mac = stackalloc byte[16];
        keys.V4Mac.CbcMac(payload[..size], mac);
        if (!CryptographicOperations.FixedTimeEquals(mac, payload[size..]))
        {
            Fail("V4 response MAC does not match.");
        }

        return KmsResponseBase.Read(payload, out _);
    }

    private static KmsResponseBase DecodeV5(ReadOnlySpan<byte> payload, in KmsClientState state, uint version, KmsKeyMaterial keys)
    {
        CheckEncryptedShape(payload, version, 20, "V5");
        ReadOnlySpan<byte> requestIv = state.RequestIv.AsReadOnlySpan();
        if (!payload.Slice(4, 16).SequenceEqual(requestIv))
        {
            Fail("V5 response IV differs from the request IV.");
        }

        Span<byte> plain = stackalloc byte[KmsServerCodec.MaxResponseLength];
        plain = plain[..(payload.Length - 20)];
        keys.V5.DecryptCbc(requestIv, payload[20..], plain);
        int unpadded = Unpad(plain, "V5");

        int size = KmsResponseBase.ReadSize(plain);
        if (unpadded != size + 48 || payload.Length != 20 + Pkcs7.PaddedLength(size + 48))
        {
            Fail($"V5 response is {payload.Length} bytes ({unpadded} unpadded); 4 + 16 + pad16(92 + P) = {20 + Pkcs7.PaddedLength(size + 48)} expected.");
        }

        CheckSaltHash(plain[size..], state.DecryptedRequestIv.AsReadOnlySpan(), "V5");
        return KmsResponseBase.Read(plain, out _);
    }

    private static KmsResponseBase DecodeV6(
        ReadOnlySpan<byte> payload, in KmsClientState state, uint version, KmsKeyMaterial keys, out HardwareId hwId)
    {
        CheckEncryptedShape(payload, version, 4, "V6");
        if (payload.Slice(4, 16).SequenceEqual(state.RequestIv.AsReadOnlySpan()))
        {
            Fail("V6 response IV equals the request IV (a host using V5 rules in V6).");
        }

        Span<byte> plain = stackalloc byte[KmsServerCodec.MaxResponseLength];
        plain = plain[..(payload.Length - 4)];
        Span<byte> zeroIv = stackalloc byte[16];
        zeroIv.Clear();
        keys.V6.DecryptCbc(zeroIv, payload[4..], plain);
        int unpadded = Unpad(plain, "V6");

        int size = KmsResponseBase.ReadSize(plain[16..]);
        int r = 16 + size;
        if (unpadded != r + 88 || payload.Length != 4 + Pkcs7.PaddedLength(r + 88))
        {
            Fail($"V6 response is {payload.Length} bytes ({unpadded} unpadded); 4 + pad16(148 + P) = {4 + Pkcs7.PaddedLength(r + 88)} expected.");
        }

        if (!CryptographicOperations.FixedTimeEquals(plain.Slice(r + 56, 16), state.DecryptedRequestIv.AsReadOnlySpan()))
        {
            Fail("V6 response's decrypted-request-IV field does not match the request.");
        }

        CheckSaltHash(plain[r..], state.DecryptedRequestIv.AsReadOnlySpan(), "V6");

        ReadOnlySpan<byte> received = plain.Slice(r + 72, KmsHmac.Size);
        Span<byte> expected = stackalloc byte[KmsHmac.Size];
        ulong slot = KmsHmac.TimeSlot(state.Request.ClientTime);
        bool hmacOk = false;
        ReadOnlySpan<long> shifts = [0, -1, 1];
        foreach (long shift in shifts)
        {
            // vlmcs also accepts the neighbouring slots (the shift is added to the slot value, not to the time).
            ulong candidate = unchecked(slot + (ulong)(shift * (long)KmsHmac.SlotWidth));
            KmsHmac.Compute(candidate, plain[..(r + 72)], expected, remember: shift == 0);
            if (CryptographicOperations.FixedTimeEquals(expected, received))
            {
                hmacOk = true;
                break;
            }
        }

        if (!hmacOk)
        {
            Fail("V6 response HMAC does not match.");
        }

        hwId = HardwareId.Read(plain[(r + 48)..]);
        return KmsResponseBase.Read(plain[16..], out _);
    }

    private static void CheckEncryptedShape(ReadOnlySpan<byte> payload, uint version, int prefix, string name)
    {
        if (payload.Length < prefix + 64 || payload.Length > KmsServerCodec.MaxResponseLength || (payload.Length - prefix) % 16 != 0)
        {
            Fail($"{name} response length {payload.Length} is not a plausible encrypted response.");
        }

        uint outer = BinaryPrimitives.ReadUInt32LittleEndian(payload);
        if (outer != version)
        {
            Fail($"{name} response version 0x{outer:X8} differs from the request version 0x{version:X8}.");
        }
    }

    private static int Unpad(ReadOnlySpan<byte> plain, string name)
    {
        int unpadded = Pkcs7.Unpad(plain);
        if (unpadded < 0)
        {
            Fail($"{name} response PKCS#7 padding is invalid.");
        }

        return unpadded;
    }

    /// <summary>Checks SHA-256(T ⊕ D) = H, where <paramref name="fields"/> starts at T.</summary>
    private static void CheckSaltHash(ReadOnlySpan<byte> fields, ReadOnlySpan<byte> decryptedRequestIv, string name)
    {
        Span<byte> salt = stackalloc byte[16];
        for (int i = 0; i < 16; i++)
        {
            salt[i] = (byte)(fields[i] ^ decryptedRequestIv[i]);
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(salt, hash);
        if (!CryptographicOperations.FixedTimeEquals(hash, fields.Slice(16, 32)))
        {
            Fail($"{name} response salt hash does not match (SHA-256(T xor D) != H).");
        }
    }

    [DoesNotReturn]
    private static void Fail(string message) => KmsProtocolException.Throw(message);
}
