using KmsFarm.Protocol.Kms;

namespace KmsFarm.Fuzz;

/// <summary>Target <c>kms</c>: the KMS message layer without RPC. Byte 0 picks a mode (modulo 3):
/// <list type="number">
/// <item>0, wire: the rest is a request payload for <see cref="KmsServerCodec.DecodeRequest"/>; an accepted request is
/// answered and the answer must satisfy the client codec.</item>
/// <item>1, plaintext: byte 1 picks V4/V5/V6, the next 236 bytes are a request base (zero-filled when short) and up to 21
/// more choose the response fields. The client codec encrypts it, the server must accept it exactly when N_Policy ≤ 1000
/// and read back the same base, and the response must round-trip.</item>
/// <item>2, response: byte 1 picks V4/V5/V6, then a request payload of that version's length, then response bytes for
/// <see cref="KmsClientCodec.DecodeResponse(ReadOnlySpan{byte}, in KmsClientState)"/> with the state of that request
/// (only <see cref="KmsProtocolException"/> may come out).</item>
/// </list></summary>
internal sealed class KmsCodecTarget : IFuzzTarget
{
    private readonly byte[] _scratch = new byte[KmsServerCodec.MaxResponseLength];
    private readonly byte[] _wire = new byte[KmsClientCodec.MaxRequestLength];

    public string Name => "kms";

    public void Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            Wire(input);
            return;
        }

        var rest = input[1..];
        switch (input[0] % 3)
        {
            case 0:
                Wire(rest);
                break;
            case 1:
                Plaintext(rest);
                break;
            default:
                Response(rest);
                break;
        }
    }

    public static KmsProtocolVersion VersionFrom(byte b) => (KmsProtocolVersion)(4 + (b % 3));

    public static int RequestLength(KmsProtocolVersion version) =>
        version == KmsProtocolVersion.V4 ? KmsServerCodec.V4RequestLength : KmsServerCodec.EncryptedRequestLength;

    private void Wire(ReadOnlySpan<byte> payload)
    {
        uint hresult = KmsServerCodec.DecodeRequest(payload, out var request);
        if (hresult != KmsHResults.Success)
        {
            Check.That(hresult == KmsHResults.InvalidData, $"DecodeRequest returned 0x{hresult:X8}");
            Outcomes.Count("kms request refused");
            return;
        }

        CheckAccepted(request, payload.Length);
        KmsRoundTrip.RespondAndVerify(request, KmsRoundTrip.DefaultFields, _scratch);
    }

    private void Plaintext(ReadOnlySpan<byte> rest)
    {
        if (rest.IsEmpty)
        {
            return;
        }

        var version = VersionFrom(rest[0]);
        Span<byte> plain = stackalloc byte[KmsRequest.Size];
        plain.Clear();
        var body = rest[1..];
        body[..Math.Min(body.Length, KmsRequest.Size)].CopyTo(plain);
        KmsRequest.Read(plain, out var original);
        var fields = KmsRoundTrip.FieldsFrom(body.Length > KmsRequest.Size ? body[KmsRequest.Size..] : default);

        int length = KmsClientCodec.EncodeRequest(version, original, KmsRoundTrip.RequestIv, _wire, out var state);
        Check.That(length == RequestLength(version), $"{version} request of {length} bytes");
        uint hresult = KmsServerCodec.DecodeRequest(_wire.AsSpan(0, length), out var request);
        bool allowed = original.RequiredClientCount <= 1000;
        Check.That((hresult == KmsHResults.Success) == allowed,
            $"{version} request with N_Policy {original.RequiredClientCount} decoded to 0x{hresult:X8}");
        if (!allowed)
        {
            Outcomes.Count("kms plaintext refused for N_Policy");
            return;
        }

        Span<byte> sent = stackalloc byte[KmsRequest.Size];
        Span<byte> received = stackalloc byte[KmsRequest.Size];
        state.Request.WriteTo(sent);
        request.Request.WriteTo(received);
        Check.That(sent.SequenceEqual(received), "the server read a different request base than the client encoded");
        Check.That(request.Version == version, "the server read another version");
        Check.That(request.RequestIv.AsReadOnlySpan().SequenceEqual(state.RequestIv.AsReadOnlySpan())
            && request.DecryptedRequestIv.AsReadOnlySpan().SequenceEqual(state.DecryptedRequestIv.AsReadOnlySpan()),
            "client and server disagree on the request IVs");
        CheckAccepted(request, length);
        KmsRoundTrip.RespondAndVerify(request, fields, _scratch);
    }

    private static void Response(ReadOnlySpan<byte> rest)
    {
        if (rest.IsEmpty)
        {
            return;
        }

        var version = VersionFrom(rest[0]);
        int requestLength = RequestLength(version);
        if (rest.Length < 1 + requestLength)
        {
            return;
        }

        if (KmsServerCodec.DecodeRequest(rest.Slice(1, requestLength), out var request) != KmsHResults.Success)
        {
            return;
        }

        var state = KmsRoundTrip.ClientStateOf(request);
        try
        {
            var response = KmsClientCodec.DecodeResponse(rest[(1 + requestLength)..], state);
            Check.That(response.ClientMachineId == request.Request.ClientMachineId && response.ClientTime == request.Request.ClientTime,
                "the client accepted a response that does not echo its request");
            Outcomes.Count("kms response accepted");
        }
        catch (KmsProtocolException)
        {
            Outcomes.Count("kms response refused");
        }
    }

    private static void CheckAccepted(in KmsServerRequest request, int length)
    {
        Check.That(request.Version is >= KmsProtocolVersion.V4 and <= KmsProtocolVersion.V6, "accepted an unknown version");
        Check.That(length == RequestLength(request.Version), $"accepted a {request.Version} request of {length} bytes");
        Check.That(request.Request.Version == request.OuterVersion && request.OuterVersion == (uint)request.Version << 16,
            "accepted inconsistent versions");
        Check.That(request.Request.RequiredClientCount <= 1000, "accepted N_Policy above 1000");
        Outcomes.Count("kms request accepted");
    }
}
