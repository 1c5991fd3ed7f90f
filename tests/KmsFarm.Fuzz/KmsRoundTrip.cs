using KmsFarm.Protocol.Kms;

namespace KmsFarm.Fuzz;

/// <summary>Deterministic KMS answers shared by the targets, and the check that whatever the server encodes for a
/// request it accepted is accepted by the client codec with every field echoed.</summary>
internal static class KmsRoundTrip
{
    /// <summary>Well-formed ePIDs of different lengths (LCID and build of 1 to 5 digits).</summary>
    private static readonly string[] Epids =
    [
        "06401-00206-271-298329-03-1033-17763.0000-0452023",
        "03612-00206-556-123456-03-1-9600.0000-3652019",
        "05426-00206-000-000001-03-99999-99999.0000-0012030",
        "55041-00168-305-190596-03-1031-6002.0000-2162014",
    ];

    /// <summary>The response salt (V5/V6) and V6 plain IV: fixed, so that a target's output is a function of its input.</summary>
    public static ReadOnlySpan<byte> Salt => [0x5A, 0x17, 0x00, 0xFF, 0x42, 0x99, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A];

    public static ReadOnlySpan<byte> PlainIv => [0xC3, 0x3C, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xAA, 0xBB, 0xCC, 0xDD, 0xEE];

    /// <summary>The V5/V6 request IV the plaintext mode encrypts with.</summary>
    public static ReadOnlySpan<byte> RequestIv => [0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10];

    public static KmsResponseFields DefaultFields { get; } = new(Epids[0], 50, 120, 10080, new HardwareId(0x3A1C049600B60076));

    /// <summary>Response fields taken from up to 21 bytes of input (missing bytes are zero): ePID choice, count,
    /// activation interval, renewal interval, hardware id.</summary>
    public static KmsResponseFields FieldsFrom(ReadOnlySpan<byte> bytes)
    {
        Span<byte> b = stackalloc byte[21];
        b.Clear();
        bytes[..Math.Min(bytes.Length, b.Length)].CopyTo(b);
        return new KmsResponseFields(
            Epids[b[0] % Epids.Length],
            BitConverter.ToUInt32(b[1..]),
            BitConverter.ToUInt32(b[5..]),
            BitConverter.ToUInt32(b[9..]),
            new HardwareId(BitConverter.ToUInt64(b[13..])));
    }

    /// <summary>What the client kept when it sent the request the server decoded.</summary>
    public static KmsClientState ClientStateOf(in KmsServerRequest request)
    {
        KmsClientState state = default;
        state.Version = request.Version;
        state.Request = request.Request;
        state.RequestIv = request.RequestIv;
        state.DecryptedRequestIv = request.DecryptedRequestIv;
        return state;
    }

    /// <summary>Encodes the response to an accepted request and checks that the client codec accepts it and reads
    /// back the same fields.</summary>
    public static void RespondAndVerify(in KmsServerRequest request, in KmsResponseFields fields, Span<byte> scratch)
    {
        int expectedLength = KmsServerCodec.GetResponseLength(request.Version, fields.Epid.Length);
        int written = KmsServerCodec.EncodeResponse(request, fields, Salt, PlainIv, scratch);
        Check.That(written == expectedLength && written <= KmsServerCodec.MaxResponseLength,
            $"EncodeResponse wrote {written} bytes, GetResponseLength says {expectedLength}");

        KmsResponse response;
        try
        {
            response = KmsClientCodec.DecodeResponse(scratch[..written], ClientStateOf(request));
        }
        catch (KmsProtocolException e)
        {
            throw new FuzzFailureException($"the client rejects the server's {request.Version} response: {e.Message}", e);
        }

        Check.That(response.Version == request.Version, "response version differs");
        Check.That(response.Epid == fields.Epid, "ePID not read back");
        Check.That(response.ClientMachineId == request.Request.ClientMachineId, "CMID not echoed");
        Check.That(response.ClientTime == request.Request.ClientTime, "client time not echoed");
        Check.That(response.CurrentCount == fields.CurrentCount, "count not read back");
        Check.That(response.ActivationInterval == fields.ActivationInterval, "activation interval not read back");
        Check.That(response.RenewalInterval == fields.RenewalInterval, "renewal interval not read back");
        Check.That(response.HwId == (request.Version == KmsProtocolVersion.V6 ? fields.HwId : null), "hardware id not read back");
        Outcomes.Count("kms response verified by the client");
    }
}
