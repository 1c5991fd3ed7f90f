using System.Buffers.Binary;
using System.Security.Cryptography;
using KmsFarm.Protocol.Crypto;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Protocol.Tests.Kms;

public sealed class KmsServerCodecTests
{
    public static TheoryData<KmsProtocolVersion> Versions => new() { KmsProtocolVersion.V4, KmsProtocolVersion.V5, KmsProtocolVersion.V6 };

    [Theory]
    [MemberData(nameof(Versions))]
    public void Client_request_round_trips_through_the_server_and_back(KmsProtocolVersion version)
    {
        foreach (var (clientKeys, serverKeys) in new[]
                 {
                     (KmsKeyMaterial.Default, KmsKeyMaterial.Default),
                     (KmsKeyMaterial.Software, KmsKeyMaterial.Default),
                     (KmsKeyMaterial.Default, KmsKeyMaterial.Software),
                 })
        {
            var request = KmsTestData.Request();
            var iv = RandomNumberGenerator.GetBytes(16);
            var wire = new byte[KmsClientCodec.MaxRequestLength];
            int requestLength = KmsClientCodec.EncodeRequest(version, request, iv, clientKeys, wire, out var state);
            Assert.Equal(version == KmsProtocolVersion.V4 ? 252 : 260, requestLength);

            Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(wire.AsSpan(0, requestLength), serverKeys, out var decoded));
            Assert.Equal(version, decoded.Version);
            Assert.Equal(request.ClientMachineId, decoded.Request.ClientMachineId);
            Assert.Equal(request.ClientTime, decoded.Request.ClientTime);
            Assert.Equal("TEST-PC.lab.example", decoded.Request.GetWorkstationName());
            Assert.Equal((ushort)version, decoded.Request.MajorVersion);

            var response = new byte[KmsServerCodec.MaxResponseLength];
            int responseLength = KmsServerCodec.EncodeResponse(decoded, KmsTestData.Fields, serverKeys, response);
            Assert.Equal(KmsServerCodec.GetResponseLength(version, KmsTestData.Fields.Epid.Length), responseLength);

            var result = KmsClientCodec.DecodeResponse(response.AsSpan(0, responseLength), state, clientKeys);
            Assert.Equal(KmsTestData.Fields.Epid, result.Epid);
            Assert.Equal(request.ClientMachineId, result.ClientMachineId);
            Assert.Equal(request.ClientTime, result.ClientTime);
            Assert.Equal(50u, result.CurrentCount);
            Assert.Equal(120u, result.ActivationInterval);
            Assert.Equal(10080u, result.RenewalInterval);
            Assert.Equal(version == KmsProtocolVersion.V6 ? KmsTestData.Fields.HwId : null, result.HwId);
        }
    }

    [Theory]
    [InlineData(KmsProtocolVersion.V4, 160)]
    [InlineData(KmsProtocolVersion.V5, 228)]
    [InlineData(KmsProtocolVersion.V6, 260)]
    public void Response_sizes_follow_the_notes(KmsProtocolVersion version, int expected)
    {
        Assert.Equal(expected, KmsServerCodec.GetResponseLength(version, 49));
        Assert.Equal(version == KmsProtocolVersion.V4 ? 162 : expected, KmsServerCodec.GetResponseLength(version, 50));
        Assert.True(KmsServerCodec.GetResponseLength(version, KmsResponseBase.MaxEpidChars) <= KmsServerCodec.MaxResponseLength);
    }

    [Fact]
    public void V5_response_reuses_the_request_iv_and_V6_uses_a_fresh_one()
    {
        var request = KmsTestData.Request();
        var v5 = KmsTestData.Encode(KmsProtocolVersion.V5, request, out _);
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(v5, out var decoded5));
        var response = new byte[KmsServerCodec.MaxResponseLength];
        KmsServerCodec.EncodeResponse(decoded5, KmsTestData.Fields, response);
        Assert.Equal(v5[4..20], response[4..20]);

        var v6 = KmsTestData.Encode(KmsProtocolVersion.V6, request, out _);
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(v6, out var decoded6));
        var first = new byte[KmsServerCodec.MaxResponseLength];
        var second = new byte[KmsServerCodec.MaxResponseLength];
        KmsServerCodec.EncodeResponse(decoded6, KmsTestData.Fields, first);
        KmsServerCodec.EncodeResponse(decoded6, KmsTestData.Fields, second);
        Assert.NotEqual(v6[4..20], first[4..20]);
        Assert.NotEqual(first[4..20], second[4..20]);
    }

    [Fact]
    public void V6_plain_iv_that_encrypts_to_the_request_iv_is_refused()
    {
        var v6 = KmsTestData.Encode(KmsProtocolVersion.V6, KmsTestData.Request(), out _);
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(v6, out var decoded));
        var response = new byte[KmsServerCodec.MaxResponseLength];
        var salt = new byte[16];

        // The plain IV whose encryption is the request's wire IV is exactly the decrypted request IV.
        var plainIv = decoded.DecryptedRequestIv.AsReadOnlySpan().ToArray();
        var error = Assert.Throws<ArgumentException>(() => KmsServerCodec.EncodeResponse(decoded, KmsTestData.Fields, salt, plainIv, response));
        Assert.Contains("request IV", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(7, 0)]
    [InlineData(4, 1)]
    [InlineData(5, 1)]
    [InlineData(6, 1)]
    [InlineData(3, 0)]
    [InlineData(0, 0)]
    public void Unsupported_outer_versions_are_invalid_data(ushort major, ushort minor)
    {
        foreach (var version in new[] { KmsProtocolVersion.V4, KmsProtocolVersion.V6 })
        {
            var payload = KmsTestData.Encode(version, KmsTestData.Request(), out _);
            BinaryPrimitives.WriteUInt16LittleEndian(payload, minor);
            BinaryPrimitives.WriteUInt16LittleEndian(payload.AsSpan(2), major);
            Assert.Equal(KmsHResults.InvalidData, KmsServerCodec.DecodeRequest(payload, out _));
        }
    }

    [Fact]
    public void Recorded_version_7_request_is_invalid_data()
    {
        var exchange = RecordedExchanges.ById.Values.First(x => x.Protocol == 7);
        Assert.Equal(KmsHResults.InvalidData, KmsServerCodec.DecodeRequest(exchange.Request, out _));
    }

    [Theory]
    [InlineData(KmsProtocolVersion.V4, 251)]
    [InlineData(KmsProtocolVersion.V4, 253)]
    [InlineData(KmsProtocolVersion.V4, 260)]
    [InlineData(KmsProtocolVersion.V5, 259)]
    [InlineData(KmsProtocolVersion.V5, 261)]
    [InlineData(KmsProtocolVersion.V5, 252)]
    [InlineData(KmsProtocolVersion.V6, 259)]
    [InlineData(KmsProtocolVersion.V6, 261)]
    [InlineData(KmsProtocolVersion.V6, 256)]
    [InlineData(KmsProtocolVersion.V6, 4)]
    [InlineData(KmsProtocolVersion.V6, 3)]
    [InlineData(KmsProtocolVersion.V6, 0)]
    public void Wrong_lengths_are_invalid_data(KmsProtocolVersion version, int length)
    {
        var valid = KmsTestData.Encode(version, KmsTestData.Request(), out _);
        var payload = new byte[length];
        valid.AsSpan(0, Math.Min(length, valid.Length)).CopyTo(payload);
        Assert.Equal(KmsHResults.InvalidData, KmsServerCodec.DecodeRequest(payload, out _));
    }

    [Fact]
    public void Recorded_100_byte_payload_is_invalid_data()
    {
        var payload = KmsTestData.RawPayload("raw_request_bad_size");
        Assert.Equal(100, payload.Length);
        Assert.Equal(KmsHResults.InvalidData, KmsServerCodec.DecodeRequest(payload, out _));
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void N_policy_above_1000_is_invalid_data(KmsProtocolVersion version)
    {
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(KmsTestData.Encode(version, KmsTestData.Request(1000), out _), out _));
        Assert.Equal(KmsHResults.InvalidData, KmsServerCodec.DecodeRequest(KmsTestData.Encode(version, KmsTestData.Request(1001), out _), out _));
        Assert.Equal(KmsHResults.InvalidData, KmsServerCodec.DecodeRequest(KmsTestData.Encode(version, KmsTestData.Request(0x80000000), out _), out _));
    }

    [Fact]
    public void Wrong_V4_mac_is_invalid_data()
    {
        var payload = KmsTestData.Encode(KmsProtocolVersion.V4, KmsTestData.Request(), out _);
        for (int i = 0; i < payload.Length; i += 7)
        {
            var tampered = payload.ToArray();
            tampered[i] ^= 0x10;
            Assert.Equal(KmsHResults.InvalidData, KmsServerCodec.DecodeRequest(tampered, out _));
        }
    }

    [Fact]
    public void Recorded_raw_V4_requests_with_right_and_wrong_mac()
    {
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(KmsTestData.RawPayload("raw_v4_correct_mac"), out _));
        Assert.Equal(KmsHResults.InvalidData, KmsServerCodec.DecodeRequest(KmsTestData.RawPayload("raw_v4_wrong_mac"), out _));
    }

    [Theory]
    [InlineData(KmsProtocolVersion.V5, new byte[] { 4, 4, 4, 5 })]
    [InlineData(KmsProtocolVersion.V5, new byte[] { 0, 0, 0, 0 })]
    [InlineData(KmsProtocolVersion.V6, new byte[] { 5, 4, 4, 4 })]
    [InlineData(KmsProtocolVersion.V6, new byte[] { 1, 1, 1, 1 })]
    public void Bad_V5_V6_padding_is_invalid_data(KmsProtocolVersion version, byte[] padding)
    {
        var payload = EncryptRaw(version, KmsTestData.Request(), (ushort)version, padding);
        Assert.Equal(KmsHResults.InvalidData, KmsServerCodec.DecodeRequest(payload, out _));

        var control = EncryptRaw(version, KmsTestData.Request(), (ushort)version, [4, 4, 4, 4]);
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(control, out _));
    }

    [Theory]
    [InlineData(KmsProtocolVersion.V5, 6)]
    [InlineData(KmsProtocolVersion.V6, 5)]
    [InlineData(KmsProtocolVersion.V6, 7)]
    public void Inner_version_must_equal_the_outer_one(KmsProtocolVersion version, ushort innerMajor)
    {
        var payload = EncryptRaw(version, KmsTestData.Request(), innerMajor, [4, 4, 4, 4]);
        Assert.Equal(KmsHResults.InvalidData, KmsServerCodec.DecodeRequest(payload, out _));
    }

    [Theory]
    [InlineData(KmsProtocolVersion.V5)]
    [InlineData(KmsProtocolVersion.V6)]
    public void Garbage_ciphertext_is_invalid_data(KmsProtocolVersion version)
    {
        for (int i = 0; i < 50; i++)
        {
            var payload = RandomNumberGenerator.GetBytes(260);
            BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)version << 16);
            Assert.Equal(KmsHResults.InvalidData, KmsServerCodec.DecodeRequest(payload, out _));
        }

        Assert.Equal(KmsHResults.InvalidData, KmsServerCodec.DecodeRequest(KmsTestData.RawPayload("raw_v6_garbage_ciphertext"), out _));
    }

    [Fact]
    public void Decoding_never_throws_on_random_input()
    {
        for (int i = 0; i < 2000; i++)
        {
            var payload = RandomNumberGenerator.GetBytes(RandomNumberGenerator.GetInt32(0, 300));
            if (payload.Length >= 4)
            {
                // Half the time give it a supported version so the deeper checks run.
                if (i % 2 == 0)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)(4 + (i % 3)) << 16);
                }
            }

            uint result = KmsServerCodec.DecodeRequest(payload, out _);
            Assert.True(result is KmsHResults.Success or KmsHResults.InvalidData);
        }
    }

    [Theory]
    [MemberData(nameof(Versions))]
    public void Decode_and_encode_allocate_nothing(KmsProtocolVersion version)
    {
        var payload = KmsTestData.Encode(version, KmsTestData.Request(), out _);
        var response = new byte[KmsServerCodec.MaxResponseLength];
        var fields = KmsTestData.Fields;
        for (int i = 0; i < 20; i++)
        {
            RoundTrip(payload, fields, response);
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            RoundTrip(payload, fields, response);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);

        static void RoundTrip(byte[] payload, in KmsResponseFields fields, byte[] response)
        {
            if (KmsServerCodec.DecodeRequest(payload, out var request) != KmsHResults.Success)
            {
                throw new InvalidOperationException("decode failed");
            }

            KmsServerCodec.EncodeResponse(request, fields, response);
        }
    }

    [Fact]
    public void V6_round_trip_allocates_nothing_while_another_thread_answers_another_time_slot()
    {
        // A farm answers clients whose clocks fall in different V6 HMAC time slots on many threads at once; one thread's
        // slot must not evict another's cached key (which cost an allocation and a key derivation per switch).
        var payload = KmsTestData.Encode(KmsProtocolVersion.V6, KmsTestData.Request(), out _);
        var other = KmsTestData.Request();
        other.ClientTime += 3 * unchecked((long)0x00000022816889BD); // three slots later
        var otherPayload = KmsTestData.Encode(KmsProtocolVersion.V6, other, out _);
        var response = new byte[KmsServerCodec.MaxResponseLength];
        var otherResponse = new byte[KmsServerCodec.MaxResponseLength];
        for (int i = 0; i < 20; i++)
        {
            RoundTrip(payload, response);
        }

        long allocated = 0;
        for (int i = 0; i < 20; i++)
        {
            var thread = new Thread(() => RoundTrip(otherPayload, otherResponse));
            thread.Start();
            thread.Join();
            long before = GC.GetAllocatedBytesForCurrentThread();
            RoundTrip(payload, response);
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.Equal(0, allocated);

        static void RoundTrip(byte[] payload, byte[] response)
        {
            if (KmsServerCodec.DecodeRequest(payload, out var request) != KmsHResults.Success)
            {
                throw new InvalidOperationException("decode failed");
            }

            KmsServerCodec.EncodeResponse(request, KmsTestData.Fields, response);
        }
    }

    [Fact]
    public void Epid_longer_than_63_characters_is_refused_by_the_encoder()
    {
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(KmsTestData.Encode(KmsProtocolVersion.V6, KmsTestData.Request(), out _), out var request));
        var fields = KmsTestData.Fields with { Epid = new string('1', 64) };
        Assert.Throws<ArgumentException>(() => KmsServerCodec.EncodeResponse(request, fields, new byte[KmsServerCodec.MaxResponseLength]));
        Assert.Throws<ArgumentException>(() => KmsServerCodec.EncodeResponse(request, KmsTestData.Fields, new byte[259]));
    }

    /// <summary>version ‖ IV ‖ CBC(key, IV, base ‖ padding) with a chosen inner version and padding.</summary>
    private static byte[] EncryptRaw(KmsProtocolVersion version, KmsRequest request, ushort innerMajor, byte[] padding)
    {
        request.MajorVersion = innerMajor;
        var payload = new byte[260];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)version << 16);
        RandomNumberGenerator.Fill(payload.AsSpan(4, 16));
        request.WriteTo(payload.AsSpan(20));
        padding.CopyTo(payload, 256);
        var key = version == KmsProtocolVersion.V5 ? KmsKeyMaterial.Default.V5 : KmsKeyMaterial.Default.V6;
        key.EncryptCbc(payload.AsSpan(4, 16), payload.AsSpan(20), payload.AsSpan(20));
        return payload;
    }
}
