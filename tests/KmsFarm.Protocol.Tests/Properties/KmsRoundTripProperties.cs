using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Protocol.Tests.Properties;

/// <summary>decode ∘ encode for KMS requests and responses, V4/V5/V6, over any field values the protocol allows:
/// client encoder → server decoder and server encoder → client decoder give back the values, and re-encoding what was
/// decoded gives the same bytes.</summary>
public sealed class KmsRoundTripProperties
{
    [Fact]
    public void Any_request_round_trips_byte_exactly_from_the_client_encoder_through_the_server_decoder() =>
        TestKit.Properties.Check("KMS request round trip", Prop.ForAll(KmsArbitraries.RequestCases(), c =>
        {
            byte[] wire = new byte[KmsClientCodec.MaxRequestLength];
            int length = KmsClientCodec.EncodeRequest(c.Version, c.Request, c.Iv, wire, out var state);
            Assert.Equal(c.Version == KmsProtocolVersion.V4 ? KmsServerCodec.V4RequestLength : KmsServerCodec.EncryptedRequestLength, length);

            Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(wire.AsSpan(0, length), out var decoded));
            Assert.Equal(c.Version, decoded.Version);
            Assert.Equal((uint)c.Version << 16, decoded.OuterVersion);

            // The base the server read is the one sent, field for field (only the version is the codec's own).
            var expected = c.Request;
            expected.MajorVersion = (ushort)c.Version;
            expected.MinorVersion = 0;
            Assert.Equal(KmsArbitraries.BaseBytes(expected), KmsArbitraries.BaseBytes(decoded.Request));
            if (c.Version != KmsProtocolVersion.V4)
            {
                Assert.Equal(c.Iv, decoded.RequestIv.AsReadOnlySpan().ToArray());
                Assert.Equal(state.DecryptedRequestIv.AsReadOnlySpan().ToArray(), decoded.DecryptedRequestIv.AsReadOnlySpan().ToArray());
            }

            // Encoding what the server decoded gives the same wire bytes.
            byte[] again = new byte[KmsClientCodec.MaxRequestLength];
            int againLength = KmsClientCodec.EncodeRequest(c.Version, decoded.Request, c.Iv, again, out _);
            Assert.Equal(wire.AsSpan(0, length).ToArray(), again.AsSpan(0, againLength).ToArray());
        }));

    [Fact]
    public void N_policy_above_1000_is_refused_in_every_version() =>
        TestKit.Properties.Check("N_Policy above 1000 refused", Prop.ForAll(
            KmsArbitraries.RequestCases(),
            Gen.Frequency((3, Gen.Choose(1001, int.MaxValue).Select(n => (uint)n)), (1, Gen.Elements(1001u, uint.MaxValue))).ToArbitrary(),
            (c, nPolicy) =>
            {
                var request = c.Request;
                request.RequiredClientCount = nPolicy;
                byte[] wire = new byte[KmsClientCodec.MaxRequestLength];
                int length = KmsClientCodec.EncodeRequest(c.Version, request, c.Iv, wire, out _);
                Assert.Equal(KmsHResults.InvalidData, KmsServerCodec.DecodeRequest(wire.AsSpan(0, length), out _));
            }));

    [Fact]
    public void Any_response_round_trips_byte_exactly_from_the_server_encoder_through_the_client_decoder() =>
        TestKit.Properties.Check("KMS response round trip", Prop.ForAll(KmsArbitraries.RequestCases(), KmsArbitraries.ResponseCases(), (c, r) =>
        {
            byte[] wire = new byte[KmsClientCodec.MaxRequestLength];
            int length = KmsClientCodec.EncodeRequest(c.Version, c.Request, c.Iv, wire, out var state);
            Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(wire.AsSpan(0, length), out var decoded));

            byte[] response = new byte[KmsServerCodec.MaxResponseLength];
            int written = KmsServerCodec.EncodeResponse(decoded, r.Fields, r.Salt, r.PlainIv, response);
            Assert.Equal(KmsServerCodec.GetResponseLength(c.Version, r.Fields.Epid.Length), written);

            var read = KmsClientCodec.DecodeResponse(response.AsSpan(0, written), state);
            Assert.Equal(c.Version, read.Version);
            Assert.Equal(r.Fields.Epid, read.Epid);
            Assert.Equal(c.Request.ClientMachineId, read.ClientMachineId);
            Assert.Equal(c.Request.ClientTime, read.ClientTime);
            Assert.Equal(r.Fields.CurrentCount, read.CurrentCount);
            Assert.Equal(r.Fields.ActivationInterval, read.ActivationInterval);
            Assert.Equal(r.Fields.RenewalInterval, read.RenewalInterval);
            Assert.Equal(c.Version == KmsProtocolVersion.V6 ? r.Fields.HwId : null, read.HwId);

            // Encoding what the client read (same salt and IV) gives the same bytes.
            var readFields = new KmsResponseFields(read.Epid, read.CurrentCount, read.ActivationInterval, read.RenewalInterval,
                read.HwId ?? r.Fields.HwId);
            byte[] again = new byte[KmsServerCodec.MaxResponseLength];
            int againWritten = KmsServerCodec.EncodeResponse(decoded, readFields, r.Salt, r.PlainIv, again);
            Assert.Equal(response.AsSpan(0, written).ToArray(), again.AsSpan(0, againWritten).ToArray());
        }));
}

/// <summary>One request as a client would send it.</summary>
public sealed record RequestCase(KmsProtocolVersion Version, KmsRequest Request, byte[] Iv)
{
    public override string ToString() =>
        $"{Version}, base {Convert.ToHexString(KmsArbitraries.BaseBytes(Request))}, IV {Convert.ToHexString(Iv)}";
}

/// <summary>What a host answers, with the salt and V6 plain IV that make the encoding deterministic.</summary>
public sealed record ResponseCase(KmsResponseFields Fields, byte[] Salt, byte[] PlainIv)
{
    public override string ToString() => $"{Fields}, salt {Convert.ToHexString(Salt)}, plain IV {Convert.ToHexString(PlainIv)}";
}

internal static class KmsArbitraries
{
    private static readonly Gen<byte> AnyByte = ArbMap.Default.GeneratorFor<byte>();

    public static Gen<byte[]> Bytes(int count) => Gen.ArrayOf(AnyByte, count);

    /// <summary>Full 32-bit range, with the edges more often than chance gives them.</summary>
    public static Gen<uint> AnyUInt32 { get; } =
        Gen.Frequency((4, Bytes(4).Select(b => BitConverter.ToUInt32(b))), (1, Gen.Elements(0u, 1u, 0x7FFFFFFFu, uint.MaxValue)));

    /// <summary>Any base (every field any bytes, the 128 workstation bytes included) with N_Policy 0..1000, any version,
    /// any IV.</summary>
    public static Arbitrary<RequestCase> RequestCases() =>
        Gen.Elements(KmsProtocolVersion.V4, KmsProtocolVersion.V5, KmsProtocolVersion.V6)
            .SelectMany(version => Bytes(KmsRequest.Size), (version, bytes) => (version, bytes))
            .SelectMany(x => Gen.Choose(0, 1000), (x, nPolicy) => (x.version, x.bytes, nPolicy))
            .SelectMany(x => Bytes(16), (x, iv) =>
            {
                KmsRequest.Read(x.bytes, out var request);
                request.RequiredClientCount = (uint)x.nPolicy;
                return new RequestCase(x.version, request, iv);
            })
            .ToArbitrary();

    /// <summary>Any well-formed ePID (PPPPP-GGGGG-KKK-NNNNNN-03-LCID-BUILD.0000-DDDYYYY), any counts and intervals, any
    /// hardware id, salt and plain IV.</summary>
    public static Arbitrary<ResponseCase> ResponseCases() =>
        Epids
            .SelectMany(epid => Gen.ArrayOf(AnyUInt32, 3), (epid, numbers) => (epid, numbers))
            .SelectMany(x => Bytes(8 + 16 + 16), (x, bytes) => new ResponseCase(
                new KmsResponseFields(x.epid, x.numbers[0], x.numbers[1], x.numbers[2], new HardwareId(BitConverter.ToUInt64(bytes))),
                bytes[8..24],
                bytes[24..]))
            .ToArbitrary();

    public static Gen<string> Epids { get; } =
        Gen.CollectToArray(new[]
        {
            Digits(5, 5), Digits(5, 5), Digits(3, 3), Digits(6, 6), Digits(1, 5), Digits(1, 5),
            Gen.Choose(1, 366).Select(day => day.ToString("D3", CultureInfo.InvariantCulture)), Digits(4, 4),
        }).Select(p => $"{p[0]}-{p[1]}-{p[2]}-{p[3]}-03-{p[4]}-{p[5]}.0000-{p[6]}{p[7]}");

    public static byte[] BaseBytes(in KmsRequest request)
    {
        byte[] bytes = new byte[KmsRequest.Size];
        request.WriteTo(bytes);
        return bytes;
    }

    private static Gen<string> Digits(int min, int max) =>
        Gen.Choose(min, max).SelectMany(n => Gen.ArrayOf(Gen.Choose(0, 9), n), (_, digits) => string.Concat(digits));
}
