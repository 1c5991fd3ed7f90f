using System.Buffers;
using KmsFarm.Protocol.Kms;
using KmsFarm.Protocol.Rpc;
using KmsFarm.TestKit;

namespace KmsFarm.Protocol.Tests.Rpc;

/// <summary>The client session against the recorded vlmcsd replies and against our server session in memory.</summary>
public sealed class RpcClientSessionTests
{
    public static TheoryData<string> VectorNames => new(RecordedVectors.Names);

    private static byte[] Written(Action<IBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return output.WrittenSpan.ToArray();
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Client_writes_the_recorded_pdus_and_accepts_the_recorded_replies(string name)
    {
        var vector = RecordedVectors.Load(name);
        var connection = vector.Connections[0];
        var messages = new Queue<RecordedPdu>(connection.Messages);
        var client = new RpcClientSession(VectorFacts.ClientOptions(vector));

        Assert.Equal(Convert.ToHexString(messages.Dequeue().Bytes!), Convert.ToHexString(Written(client.WriteBind)));
        var state = RpcClientState.Initial;
        byte[] alter = Written(o => state = client.HandleBindReply(messages.Dequeue().Bytes, o));
        Assert.Equal(VectorFacts.ServerPort(connection).ToString(System.Globalization.CultureInfo.InvariantCulture), client.SecondaryAddress);
        Assert.Equal(VectorFacts.AssociationGroup(connection.Messages), client.AssociationGroupId);
        if (messages.Peek().Bytes![2] == 14)
        {
            Assert.Equal(RpcClientState.AwaitingAlterContextResponse, state);
            Assert.Equal(Convert.ToHexString(messages.Dequeue().Bytes!), Convert.ToHexString(alter));
            client.HandleAlterContextReply(messages.Dequeue().Bytes);
            Assert.False(client.Ndr32AcceptedInBind);
        }
        else
        {
            Assert.Empty(alter);
            Assert.True(client.Ndr32AcceptedInBind);
        }

        Assert.Equal(RpcClientState.Bound, client.State);
        bool ndr64Expected = connection.Json.GetProperty("context_syntax_map").TryGetProperty("1", out _);
        Assert.Equal(ndr64Expected, client.Ndr64Negotiated);
        Assert.Equal(ndr64Expected ? (ushort)3 : null, client.BtfnFeatures);

        while (messages.Count > 0)
        {
            var request = messages.Dequeue();
            var body = request.Json.GetProperty("body");
            byte[] kmsRequest = Convert.FromHexString(body.GetProperty("kms_request_hex").GetString()!);
            Assert.Equal(Convert.ToHexString(request.Bytes!), Convert.ToHexString(Written(o => client.WriteRequest(kmsRequest, o))));
            Assert.Equal(body.GetProperty("transfer_syntax").GetString(), client.LastRequestSyntax.ToString()!.ToUpperInvariant());
            Assert.Equal(Pdus.CallId(request.Bytes!), client.LastCallId);

            var reply = messages.Dequeue();
            var response = client.ReadResponse(reply.Bytes);
            var replyBody = reply.Json.GetProperty("body");
            uint expectedReturn = Convert.ToUInt32(replyBody.GetProperty("return_code").GetString(), 16);
            Assert.Equal(expectedReturn, response.ReturnValue);
            if (expectedReturn == 0)
            {
                Assert.Equal(replyBody.GetProperty("kms_response_hex").GetString(), Convert.ToHexString(response.KmsResponse.Span), ignoreCase: true);
            }
            else
            {
                Assert.False(response.IsSuccess);
                Assert.True(response.KmsResponse.IsEmpty);
            }

            Assert.Equal(RpcClientState.Bound, client.State);
        }
    }

    public static TheoryData<bool, bool, bool, bool, bool> Combinations()
    {
        var data = new TheoryData<bool, bool, bool, bool, bool>();
        for (int bits = 0; bits < 32; bits++)
        {
            data.Add((bits & 1) != 0, (bits & 2) != 0, (bits & 4) != 0, (bits & 8) != 0, (bits & 16) != 0);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public void Client_and_server_sessions_talk_in_memory(bool offerNdr64, bool offerBtfn, bool multiplex, bool serverNdr64, bool serverBtfn)
    {
        var client = new RpcClientSession(new RpcClientOptions { OfferNdr64 = offerNdr64, OfferBtfn = offerBtfn, Multiplex = multiplex });
        var server = new RpcServerSession(new RpcServerOptions { Ndr64Enabled = serverNdr64, BtfnEnabled = serverBtfn }, 0xCAFE0001, 1688);

        var ack = Assert.Single(ServerDriver.Drive(server, new ReadOnlySequence<byte>(Written(client.WriteBind))).Pdus);
        var output = new ArrayBufferWriter<byte>();
        var state = client.HandleBindReply(ack, output);
        bool ndr64 = offerNdr64 && serverNdr64;
        Assert.Equal(ndr64 ? RpcClientState.AwaitingAlterContextResponse : RpcClientState.Bound, state);
        if (state == RpcClientState.AwaitingAlterContextResponse)
        {
            client.HandleAlterContextReply(Assert.Single(ServerDriver.Drive(server, new ReadOnlySequence<byte>(output.WrittenMemory)).Pdus));
        }

        Assert.Equal(ndr64, client.Ndr64Negotiated);
        Assert.Equal(offerBtfn && serverBtfn ? (ushort)3 : null, client.BtfnFeatures);
        Assert.Equal("1688", client.SecondaryAddress);
        Assert.Equal(0xCAFE0001, client.AssociationGroupId);

        for (int i = 0; i < 5; i++)
        {
            byte[] kmsRequest = Enumerable.Range(0, 252 + (8 * i)).Select(b => (byte)(b ^ i)).ToArray();
            byte[] requestPdu = Written(o => client.WriteRequest(kmsRequest, o));
            Assert.Equal(i > 0 && ndr64 ? RpcTransferSyntax.Ndr64 : RpcTransferSyntax.Ndr32, client.LastRequestSyntax);
            Assert.Equal(2u + (uint)i, client.LastCallId);

            bool fail = i == 3;
            var result = ServerDriver.Drive(server, new ReadOnlySequence<byte>(requestPdu), (s, call, o) =>
            {
                Assert.Equal(client.LastRequestSyntax == RpcTransferSyntax.Ndr64, call.IsNdr64);
                Assert.Equal(kmsRequest, call.Payload.ToArray());
                if (fail)
                {
                    s.WriteFailure(call, KmsHResults.TimeSkew, o);
                }
                else
                {
                    s.WriteResponse(call, call.Payload.Span[..(100 + i)], o);
                }
            });

            var response = client.ReadResponse(Assert.Single(result.Pdus));
            if (fail)
            {
                Assert.Equal(KmsHResults.TimeSkew, response.ReturnValue);
            }
            else
            {
                Assert.True(response.IsSuccess);
                Assert.Equal(kmsRequest[..(100 + i)], response.KmsResponse.ToArray());
            }
        }
    }

    [Fact]
    public void Default_bind_is_the_160_byte_vlmcs_bind()
    {
        byte[] bind = Written(new RpcClientSession().WriteBind);
        Assert.Equal(160, bind.Length);
        Assert.Equal(RecordedVectors.Load("v6_win10pro_ndr32").Connections[0].Messages[0].Bytes, bind);
    }

    [Fact]
    public void Fault_reply_names_the_status_and_leaves_the_session_bound()
    {
        var client = BoundToRecordedServer();
        client.WriteRequest(new byte[260], new ArrayBufferWriter<byte>());
        byte[] fault = RecordedVectors.LoadRaw("raw_request_unknown_context")[3].Bytes!;
        var e = Assert.Throws<KmsProtocolException>(() => client.ReadResponse(fault));
        Assert.Contains("nca_unk_if (0x1C010003)", e.Message, StringComparison.Ordinal);
        Assert.Equal(RpcFaultStatus.UnknownInterface, e.FaultStatus);
        Assert.Equal(RpcClientState.Bound, client.State);
        client.WriteRequest(new byte[260], new ArrayBufferWriter<byte>());
        Assert.Equal(3u, client.LastCallId);
    }

    [Fact]
    public void Methods_called_in_the_wrong_state_throw_invalid_operation()
    {
        var client = new RpcClientSession();
        Assert.Throws<InvalidOperationException>(() => client.WriteRequest(new byte[10], new ArrayBufferWriter<byte>()));
        Assert.Throws<InvalidOperationException>(() => client.ReadResponse(new byte[10]));
        Assert.Throws<InvalidOperationException>(() => client.HandleAlterContextReply(new byte[10]));
        client.WriteBind(new ArrayBufferWriter<byte>());
        Assert.Throws<InvalidOperationException>(() => client.WriteBind(new ArrayBufferWriter<byte>()));
    }

    /// <summary>A client that went through the recorded v6_win10pro_ndr32 bind and alter_context.</summary>
    internal static RpcClientSession BoundToRecordedServer()
    {
        var messages = RecordedVectors.Load("v6_win10pro_ndr32").Connections[0].Messages;
        var client = new RpcClientSession();
        client.WriteBind(new ArrayBufferWriter<byte>());
        client.HandleBindReply(messages[1].Bytes, new ArrayBufferWriter<byte>());
        client.HandleAlterContextReply(messages[3].Bytes);
        return client;
    }
}
