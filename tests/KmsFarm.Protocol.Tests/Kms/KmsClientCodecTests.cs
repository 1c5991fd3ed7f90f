using System.Buffers.Binary;
using KmsFarm.Protocol.Crypto;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Protocol.Tests.Kms;

public sealed class KmsClientCodecTests
{
    public static TheoryData<string> Answered() => RecordedExchanges.Answered();

    [Theory]
    [MemberData(nameof(Answered))]
    public void Every_flipped_bit_of_a_recorded_response_is_caught(string id)
    {
        var exchange = RecordedExchanges.Get(id);
        var state = RecordedVectorTests.ClientStateFor(exchange, aesNi: true);
        var response = exchange.Response!;
        KmsClientCodec.DecodeResponse(response, state);

        for (int position = 0; position < response.Length; position++)
        {
            foreach (byte bit in new byte[] { 0x01, 0x80 })
            {
                var tampered = response.ToArray();
                tampered[position] ^= bit;
                var error = Record.Exception(() => KmsClientCodec.DecodeResponse(tampered, state));
                Assert.True(error is KmsProtocolException, $"byte {position} bit 0x{bit:X2}: {error?.GetType().Name ?? "accepted"}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Answered))]
    public void Truncated_or_extended_responses_are_refused(string id)
    {
        var exchange = RecordedExchanges.Get(id);
        var state = RecordedVectorTests.ClientStateFor(exchange, aesNi: true);
        var response = exchange.Response!;
        foreach (int length in new[] { 0, 3, 4, 20, response.Length - 16, response.Length - 1, response.Length + 1, response.Length + 16 })
        {
            var resized = new byte[length];
            response.AsSpan(0, Math.Min(length, response.Length)).CopyTo(resized);
            Assert.Throws<KmsProtocolException>(() => KmsClientCodec.DecodeResponse(resized, state));
        }
    }

    [Theory]
    [MemberData(nameof(Answered))]
    public void Response_to_another_request_is_refused(string id)
    {
        var exchange = RecordedExchanges.Get(id);
        var state = RecordedVectorTests.ClientStateFor(exchange, aesNi: true);
        state.Request.ClientMachineId = Guid.NewGuid();
        var error = Assert.Throws<KmsProtocolException>(() => KmsClientCodec.DecodeResponse(exchange.Response, state));
        Assert.Contains("CMID", error.Message, StringComparison.Ordinal);

        state = RecordedVectorTests.ClientStateFor(exchange, aesNi: true);
        state.Request.ClientTime++;
        Assert.Throws<KmsProtocolException>(() => KmsClientCodec.DecodeResponse(exchange.Response, state));
    }

    [Fact]
    public void Failure_messages_name_the_check()
    {
        var request = KmsTestData.Request();
        Assert.Contains("MAC", DecodeTampered(KmsProtocolVersion.V4, request, r => r[^1] ^= 1), StringComparison.Ordinal);
        Assert.Contains("IV differs", DecodeTampered(KmsProtocolVersion.V5, request, r => r[5] ^= 1), StringComparison.Ordinal);
        Assert.Contains("padding", DecodeTampered(KmsProtocolVersion.V5, request, r => r[^1] ^= 1), StringComparison.Ordinal);
        Assert.Contains("version", DecodeTampered(KmsProtocolVersion.V6, request, r => r[2] ^= 1), StringComparison.Ordinal);
        Assert.Contains("salt hash", DecodeTampered(KmsProtocolVersion.V5, request, r => r[^33] ^= 1), StringComparison.Ordinal);

        // The HMAC key comes from the client time; a client whose clock field differs by hours derives another key.
        var wire = KmsTestData.Encode(KmsProtocolVersion.V6, request, out var state);
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(wire, out var decoded));
        var response = new byte[KmsServerCodec.MaxResponseLength];
        int length = KmsServerCodec.EncodeResponse(decoded, KmsTestData.Fields, response);
        state.Request.ClientTime += 10 * (long)KmsHmac.SlotWidth;
        var error = Assert.Throws<KmsProtocolException>(() => KmsClientCodec.DecodeResponse(response.AsSpan(0, length), state));
        Assert.Contains("HMAC", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void V6_response_with_the_request_iv_is_refused_as_V5_rules()
    {
        var request = KmsTestData.Request();
        var wire = KmsTestData.Encode(KmsProtocolVersion.V6, request, out var state);
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(wire, out var decoded));
        var response = new byte[KmsServerCodec.MaxResponseLength];
        int length = KmsServerCodec.EncodeResponse(decoded, KmsTestData.Fields, response);

        // Pretend the request had gone out with the response's wire IV.
        response.AsSpan(4, 16).CopyTo(state.RequestIv.AsSpan());
        var error = Assert.Throws<KmsProtocolException>(() => KmsClientCodec.DecodeResponse(response.AsSpan(0, length), state));
        Assert.Contains("V5 rules", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1, true)]
    [InlineData(0, true)]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(-2, false)]
    public void V6_hmac_is_accepted_in_the_neighbouring_time_slots_only(int shift, bool accepted)
    {
        var request = KmsTestData.Request();
        var wire = KmsTestData.Encode(KmsProtocolVersion.V6, request, out var state);
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(wire, out var decoded));
        var response = new byte[KmsServerCodec.MaxResponseLength];
        int length = KmsServerCodec.EncodeResponse(decoded, KmsTestData.Fields, response);
        var payload = response.AsSpan(4, length - 4);

        // Re-MAC the plaintext with a shifted slot and encrypt it again.
        var keys = KmsKeyMaterial.Default;
        var zero = new byte[16];
        keys.V6.DecryptCbc(zero, payload, payload);
        int r = 16 + KmsResponseBase.GetSize(KmsTestData.Fields.Epid.Length);
        ulong slot = unchecked(KmsHmac.TimeSlot(request.ClientTime) + (ulong)(shift * (long)KmsHmac.SlotWidth));
        KmsHmac.Compute(slot, payload[..(r + 72)], payload.Slice(r + 72, 16));
        keys.V6.EncryptCbc(zero, payload, payload);

        var bytes = response.AsSpan(0, length).ToArray();
        if (accepted)
        {
            Assert.Equal(KmsTestData.Fields.Epid, KmsClientCodec.DecodeResponse(bytes, state).Epid);
        }
        else
        {
            Assert.Throws<KmsProtocolException>(() => KmsClientCodec.DecodeResponse(bytes, state));
        }
    }

    [Theory]
    [InlineData("not-an-epid")]
    [InlineData("03612-00206-556-123727-04-1033-17763.0000-2972018")]
    [InlineData("03612-00206-556-123727-03-1033-17763-2972018")]
    public void Badly_formatted_epid_is_refused(string epid)
    {
        var request = KmsTestData.Request();
        foreach (var version in new[] { KmsProtocolVersion.V4, KmsProtocolVersion.V5, KmsProtocolVersion.V6 })
        {
            var wire = KmsTestData.Encode(version, request, out var state);
            Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(wire, out var decoded));
            var response = new byte[KmsServerCodec.MaxResponseLength];
            int length = KmsServerCodec.EncodeResponse(decoded, KmsTestData.Fields with { Epid = epid }, response);
            var error = Assert.Throws<KmsProtocolException>(() => KmsClientCodec.DecodeResponse(response.AsSpan(0, length), state));
            Assert.Contains("ePID", error.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(101)]
    [InlineData(130)]
    [InlineData(0)]
    public void V4_epid_size_must_be_even_and_at_most_128(int epidSize)
    {
        var request = KmsTestData.Request();
        var wire = KmsTestData.Encode(KmsProtocolVersion.V4, request, out var state);
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(wire, out var decoded));
        var response = new byte[KmsServerCodec.MaxResponseLength];
        int length = KmsServerCodec.EncodeResponse(decoded, KmsTestData.Fields, response);
        BinaryPrimitives.WriteInt32LittleEndian(response.AsSpan(4), epidSize);
        int baseSize = length - 16;
        KmsKeyMaterial.Default.V4Mac.CbcMac(response.AsSpan(0, baseSize), response.AsSpan(baseSize, 16));
        var error = Assert.Throws<KmsProtocolException>(() => KmsClientCodec.DecodeResponse(response.AsSpan(0, length), state));
        Assert.Contains("ePID size", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void V4_epid_without_nul_is_refused()
    {
        var request = KmsTestData.Request();
        var wire = KmsTestData.Encode(KmsProtocolVersion.V4, request, out var state);
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(wire, out var decoded));
        var response = new byte[KmsServerCodec.MaxResponseLength];
        int length = KmsServerCodec.EncodeResponse(decoded, KmsTestData.Fields, response);
        response[6 + 100] = (byte)'1';
        KmsKeyMaterial.Default.V4Mac.CbcMac(response.AsSpan(0, length - 16), response.AsSpan(length - 16, 16));
        var error = Assert.Throws<KmsProtocolException>(() => KmsClientCodec.DecodeResponse(response.AsSpan(0, length), state));
        Assert.Contains("NUL", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encoder_sets_the_version_fields_and_needs_room()
    {
        var request = KmsTestData.Request();
        request.MajorVersion = 9;
        request.MinorVersion = 3;
        var wire = KmsTestData.Encode(KmsProtocolVersion.V5, request, out var state);
        Assert.Equal(5, state.Request.MajorVersion);
        Assert.Equal(0, state.Request.MinorVersion);
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(wire, out _));
        Assert.Throws<ArgumentException>(() => KmsClientCodec.EncodeRequest(KmsProtocolVersion.V6, request, new byte[259], out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => KmsClientCodec.EncodeRequest((KmsProtocolVersion)7, request, new byte[260], out _));
    }

    private static string DecodeTampered(KmsProtocolVersion version, KmsRequest request, Action<byte[]> tamper)
    {
        var wire = KmsTestData.Encode(version, request, out var state);
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(wire, out var decoded));
        var response = new byte[KmsServerCodec.MaxResponseLength];
        int length = KmsServerCodec.EncodeResponse(decoded, KmsTestData.Fields, response);
        var bytes = response[..length];
        tamper(bytes);
        return Assert.Throws<KmsProtocolException>(() => KmsClientCodec.DecodeResponse(bytes, state)).Message;
    }
}
