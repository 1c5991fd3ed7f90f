using KmsFarm.Protocol.Crypto;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Protocol.Tests.Kms;

/// <summary>Every recorded exchange, decoded and re-encoded by our codecs, on the AES-NI and the software path.</summary>
public sealed class RecordedVectorTests
{
    public static TheoryData<string, bool> Exchanges() => WithPaths(RecordedExchanges.All());

    public static TheoryData<string, bool> AnsweredExchanges() => WithPaths(RecordedExchanges.Answered());

    public static TheoryData<string> SupportedIds() => RecordedExchanges.Ids(x => x.Protocol is >= 4 and <= 6);

    public static TheoryData<string, bool> SupportedExchanges() => WithPaths(SupportedIds());

    private static TheoryData<string, bool> WithPaths(TheoryData<string> ids)
    {
        var data = new TheoryData<string, bool>();
        foreach (var id in ids)
        {
            data.Add(id.Data, true);
            data.Add(id.Data, false);
        }

        return data;
    }

    private static KmsKeyMaterial Keys(bool aesNi) => aesNi ? KmsKeyMaterial.Default : KmsKeyMaterial.Software;

    [Fact]
    public void All_recorded_exchanges_are_found()
    {
        // 13 vector files: 17 exchanges, of which 13 got a KMS response (3 V4, 3 V5, 7 V6) and 4 an HRESULT.
        Assert.Equal(17, RecordedExchanges.ById.Count);
        Assert.Equal(13, RecordedExchanges.ById.Values.Count(x => x.Response is not null));
    }

    [Theory]
    [MemberData(nameof(Exchanges))]
    public void Server_decodes_the_recorded_request(string id, bool aesNi)
    {
        var exchange = RecordedExchanges.Get(id);
        uint result = KmsServerCodec.DecodeRequest(exchange.Request, Keys(aesNi), out var decoded);
        var json = exchange.RequestJson;
        if (exchange.Protocol is < 4 or > 6)
        {
            Assert.Equal(KmsHResults.InvalidData, result);
            return;
        }

        Assert.Equal(KmsHResults.Success, result);
        Assert.Equal((KmsProtocolVersion)exchange.Protocol, decoded.Version);
        Assert.Equal(json.Text("outer_version_hex"), Convert.ToHexStringLower(exchange.Request.AsSpan(0, 4)));
        Assert.Equal(BitConverter.ToUInt32(exchange.Request, 0), decoded.OuterVersion);

        var fields = exchange.RequestFields;
        ref readonly var request = ref decoded.Request;
        Assert.Equal(fields.Text("version"), $"{request.MajorVersion}.{request.MinorVersion}");
        Assert.Equal(fields.GetProperty("vm_info").GetUInt32(), request.IsClientVm);
        Assert.Equal(fields.GetProperty("license_status").GetUInt32(), request.LicenseStatus);
        Assert.Equal(fields.GetProperty("binding_expiration_min").GetUInt32(), request.BindingExpiration);
        Assert.Equal(Guid.Parse(fields.Text("application_id")), request.ApplicationId);
        Assert.Equal(Guid.Parse(fields.Text("sku_id")), request.SkuId);
        Assert.Equal(Guid.Parse(fields.Text("kms_counted_id")), request.KmsCountedId);
        Assert.Equal(Guid.Parse(fields.Text("cmid")), request.ClientMachineId);
        Assert.Equal(fields.GetProperty("n_policy").GetUInt32(), request.RequiredClientCount);
        Assert.Equal(fields.GetProperty("client_time_filetime").GetInt64(), request.ClientTime);
        Assert.Equal(DateTime.Parse(fields.Text("client_time_utc"), null, System.Globalization.DateTimeStyles.AdjustToUniversal), request.ClientTimeUtc);
        Assert.Equal(Guid.Parse(fields.Text("previous_cmid")), request.PreviousClientMachineId);
        Assert.Equal(fields.Text("workstation_name"), request.GetWorkstationName());
        Assert.Equal(fields.Hex("workstation_field_hex"), request.WorkstationName.AsReadOnlySpan().ToArray());

        var plaintext = new byte[KmsRequest.Size];
        request.WriteTo(plaintext);
        if (exchange.Protocol == 4)
        {
            Assert.Equal(json.Hex("plaintext_hex")[..KmsRequest.Size], plaintext);
        }
        else
        {
            Assert.Equal(json.Hex("plaintext_request_base_hex"), plaintext);
            Assert.Equal(json.Hex("iv_hex"), decoded.RequestIv.AsReadOnlySpan().ToArray());
            Assert.Equal(json.Hex("decrypted_request_iv_hex"), decoded.DecryptedRequestIv.AsReadOnlySpan().ToArray());
        }
    }

    [Theory]
    [MemberData(nameof(AnsweredExchanges))]
    public void Server_reproduces_the_recorded_response_byte_for_byte(string id, bool aesNi)
    {
        var exchange = RecordedExchanges.Get(id);
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(exchange.Request, Keys(aesNi), out var decoded));
        var response = exchange.ResponseJson!.Value;
        byte[] salt = exchange.Protocol == 4 ? [] : response.Hex("derived_random_salt_hex");
        byte[] plainIv = exchange.Protocol == 6 ? response.Hex("plain_iv_hex") : [];

        var output = new byte[KmsServerCodec.MaxResponseLength];
        int written = KmsServerCodec.EncodeResponse(decoded, RecordedExchanges.ResponseFields(exchange), salt, plainIv, Keys(aesNi), output);

        Assert.Equal(response.GetProperty("wire_size").GetInt32(), written);
        Assert.Equal(Convert.ToHexStringLower(exchange.Response!), Convert.ToHexStringLower(output.AsSpan(0, written)));
    }

    [Theory]
    [MemberData(nameof(AnsweredExchanges))]
    public void Client_accepts_the_recorded_response(string id, bool aesNi)
    {
        var exchange = RecordedExchanges.Get(id);
        var state = ClientStateFor(exchange, aesNi);
        var response = KmsClientCodec.DecodeResponse(exchange.Response, state, Keys(aesNi));

        var json = exchange.ResponseJson!.Value;
        var fields = json.GetProperty("fields");
        Assert.Equal(state.Version, response.Version);
        Assert.Equal(fields.Text("epid"), response.Epid);
        Assert.Equal(fields.GetProperty("epid_size_bytes").GetInt32(), 2 * (response.Epid.Length + 1));
        Assert.Equal(Guid.Parse(fields.Text("cmid")), response.ClientMachineId);
        Assert.Equal(fields.GetProperty("client_time_filetime").GetInt64(), response.ClientTime);
        Assert.Equal(fields.GetProperty("current_count").GetUInt32(), response.CurrentCount);
        Assert.Equal(fields.GetProperty("activation_interval_min").GetUInt32(), response.ActivationInterval);
        Assert.Equal(fields.GetProperty("renewal_interval_min").GetUInt32(), response.RenewalInterval);
        if (exchange.Protocol == 6)
        {
            Assert.Equal(json.Text("hwid_hex"), response.HwId?.ToString());
        }
        else
        {
            Assert.Null(response.HwId);
        }
    }

    [Theory]
    [MemberData(nameof(SupportedExchanges))]
    public void Client_re_encodes_the_recorded_request_byte_for_byte(string id, bool aesNi)
    {
        var exchange = RecordedExchanges.Get(id);
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(exchange.Request, out var decoded));
        byte[] iv = exchange.Protocol == 4 ? [] : exchange.RequestJson.Hex("iv_hex");

        var output = new byte[KmsClientCodec.MaxRequestLength];
        int written = KmsClientCodec.EncodeRequest(decoded.Version, decoded.Request, iv, Keys(aesNi), output, out var state);

        Assert.Equal(exchange.Request, output[..written]);
        Assert.Equal(decoded.DecryptedRequestIv.AsReadOnlySpan().ToArray(), state.DecryptedRequestIv.AsReadOnlySpan().ToArray());
    }

    [Theory]
    [MemberData(nameof(SupportedIds))]
    public void V4_requests_re_encode_exactly_through_the_randomised_entry_point(string id)
    {
        var exchange = RecordedExchanges.Get(id);
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(exchange.Request, out var decoded));
        var output = new byte[KmsClientCodec.MaxRequestLength];
        int written = KmsClientCodec.EncodeRequest(decoded.Version, decoded.Request, output, out _);
        if (exchange.Protocol == 4)
        {
            Assert.Equal(exchange.Request, output[..written]);
        }
        else
        {
            // V5/V6 draw a fresh IV, so the bytes differ but the server reads back the same base.
            Assert.NotEqual(exchange.Request, output[..written]);
            Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(output.AsSpan(0, written), out var again));
            Assert.Equal(decoded.Request.ClientMachineId, again.Request.ClientMachineId);
        }
    }

    internal static KmsClientState ClientStateFor(RecordedExchange exchange, bool aesNi)
    {
        Assert.Equal(KmsHResults.Success, KmsServerCodec.DecodeRequest(exchange.Request, Keys(aesNi), out var decoded));
        return new KmsClientState
        {
            Version = decoded.Version,
            Request = decoded.Request,
            RequestIv = decoded.RequestIv,
            DecryptedRequestIv = decoded.DecryptedRequestIv,
        };
    }
}
