using System.Buffers;
using System.Buffers.Binary;
using KmsFarm.Protocol.Kms;
using KmsFarm.Protocol.Rpc;
using KmsFarm.TestKit;

namespace KmsFarm.Protocol.Tests.Rpc;

/// <summary>The client rejects server PDUs that break the protocol, with a <see cref="KmsProtocolException"/> only.</summary>
public sealed class RpcClientValidationTests
{
    private static readonly IReadOnlyList<RecordedPdu> Recorded = RecordedVectors.Load("v4_ws2019dc_ndr32_ndr64").Connections[0].Messages;

    private static byte[] BindAck => (byte[])Recorded[1].Bytes!.Clone();

    private static RpcClientSession AwaitingBindAck()
    {
        var client = new RpcClientSession();
        client.WriteBind(new ArrayBufferWriter<byte>());
        return client;
    }

    private static RpcClientSession AwaitingResponse(bool secondRequest = false)
    {
        var client = new RpcClientSession();
        client.WriteBind(new ArrayBufferWriter<byte>());
        client.HandleBindReply(Recorded[1].Bytes, new ArrayBufferWriter<byte>());
        client.HandleAlterContextReply(Recorded[3].Bytes);
        client.WriteRequest(new byte[252], new ArrayBufferWriter<byte>());
        if (secondRequest)
        {
            client.ReadResponse(Recorded[5].Bytes);
            client.WriteRequest(new byte[252], new ArrayBufferWriter<byte>());
        }

        return client;
    }

    public static TheoryData<string, int, byte> BindAckCorruptions => new()
    {
        { "call_id", 12, 3 },
        { "CONC_MPX not echoed", 3, 0x03 },
        { "PTYPE bind_nak", 2, 13 },
        { "PTYPE response", 2, 2 },
        { "fragment flags", 3, 0x11 },
        { "big-endian", 4, 0x00 },
        { "frag_length", 8, 107 },
        { "max_xmit_frag too small", 17, 0 },
        { "max_recv_frag above ours", 19, 0x20 },
        { "secondary address length", 24, 7 },
        { "secondary address not digits", 27, (byte)'x' },
        { "secondary address without NUL", 31, (byte)'1' },
        { "result count", 32, 2 },
        { "NDR32 result neither accepted nor rejected", 36, 1 },
        { "NDR32 rejected as abstract syntax", 38, 1 },
        { "NDR64 accepted with NDR32 syntax", 64, 0x04 },
        { "NDR64 result reason", 62, 1 },
        { "BTFN grants bits not requested", 86, 7 },
        { "BTFN carries a syntax", 90, 1 },
        { "rejection carries a syntax", 45, 1 },
    };

    [Theory]
    [MemberData(nameof(BindAckCorruptions))]
    public void Corrupt_bind_ack_is_refused(string why, int offset, byte value)
    {
        byte[] ack = BindAck;
        ack[offset] = value;
        var client = AwaitingBindAck();
        var e = Assert.Throws<KmsProtocolException>(() => client.HandleBindReply(ack, new ArrayBufferWriter<byte>()));
        Assert.False(string.IsNullOrWhiteSpace(e.Message), why);
        Assert.Equal(RpcClientState.Failed, client.State);
    }

    [Fact]
    public void Bind_ack_accepting_nothing_is_refused()
    {
        byte[] ack = BindAck;
        ack[60] = 2; // NDR64 rejected too
        ack[62] = 2;
        Array.Clear(ack, 64, 20);
        var e = Assert.Throws<KmsProtocolException>(() => AwaitingBindAck().HandleBindReply(ack, new ArrayBufferWriter<byte>()));
        Assert.Contains("neither NDR32 nor NDR64", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stale_padding_and_any_association_group_are_accepted()
    {
        // vlmcsd leaves stale bytes after the secondary address; the client must not care.
        byte[] ack = BindAck;
        ack = [.. ack];
        BinaryPrimitives.WriteUInt32LittleEndian(ack.AsSpan(20), 0);
        var client = AwaitingBindAck();
        Assert.Equal(RpcClientState.AwaitingAlterContextResponse, client.HandleBindReply(ack, new ArrayBufferWriter<byte>()));
        byte[] alterResp = (byte[])Recorded[3].Bytes!.Clone();
        alterResp[26] = 0xAB;
        alterResp[27] = 0xCD;
        client.HandleAlterContextReply(alterResp);
        Assert.Equal(RpcClientState.Bound, client.State);
    }

    [Theory]
    [InlineData("call_id", 12, 3)]
    [InlineData("PTYPE", 2, 12)]
    [InlineData("result", 32, 2)]
    [InlineData("syntax", 36, 0x33)]
    [InlineData("result count", 28, 2)]
    public void Corrupt_alter_context_resp_is_refused(string why, int offset, byte value)
    {
        var client = AwaitingBindAck();
        client.HandleBindReply(Recorded[1].Bytes, new ArrayBufferWriter<byte>());
        byte[] resp = (byte[])Recorded[3].Bytes!.Clone();
        resp[offset] = value;
        Assert.Throws<KmsProtocolException>(() => client.HandleAlterContextReply(resp));
        Assert.True(client.State == RpcClientState.Failed, why);
    }

    public static TheoryData<string, int, byte> ResponseCorruptions => new()
    {
        { "flags", 3, 0x23 },
        { "call_id", 12, 9 },
        { "alloc_hint", 16, 0xB1 },
        { "p_cont_id", 20, 1 },
        { "cancel_count", 22, 1 },
        { "max_count", 32, 0xA1 },
        { "size", 24, 0xA1 },
        { "return value", 199, 0x80 },
        { "PTYPE", 2, 0 },
        { "frag_length", 8, 0xC4 },
    };

    [Theory]
    [MemberData(nameof(ResponseCorruptions))]
    public void Corrupt_response_is_refused(string why, int offset, byte value)
    {
        byte[] response = (byte[])Recorded[5].Bytes!.Clone();
        response[offset] = value;
        var client = AwaitingResponse();
        var e = Assert.Throws<KmsProtocolException>(() => client.ReadResponse(response));
        Assert.False(string.IsNullOrWhiteSpace(e.Message), why);
        Assert.Equal(RpcClientState.Failed, client.State);
    }

    [Fact]
    public void Non_zero_ndr_padding_is_refused()
    {
        // Our server pads a 161-byte response with three zero bytes; make one of them non-zero.
        var server = Pdus.Server();
        ServerDriver.Drive(server, new ReadOnlySequence<byte>([.. Recorded[0].Bytes!, .. Recorded[2].Bytes!]));
        var good = ServerDriver.Drive(server, new ReadOnlySequence<byte>(Recorded[4].Bytes!), (s, call, o) => s.WriteResponse(call, new byte[161], o));
        byte[] response = Assert.Single(good.Pdus);
        Assert.Equal(0u, AwaitingResponse().ReadResponse(response).ReturnValue);

        response[24 + 12 + 161 + 1] = 1;
        var e = Assert.Throws<KmsProtocolException>(() => AwaitingResponse().ReadResponse(response));
        Assert.Contains("padding", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_failure_stubs_are_refused()
    {
        byte[] failure = RecordedVectors.Load("err_version_7_0").Connections[0].Messages[5].Bytes!;
        Assert.Equal(KmsHResults.InvalidData, AwaitingResponse().ReadResponse(failure).ReturnValue);

        byte[] zeroResult = (byte[])failure.Clone();
        Array.Clear(zeroResult, 32, 4);
        Assert.Throws<KmsProtocolException>(() => AwaitingResponse().ReadResponse(zeroResult));

        byte[] sizeWithNullPointer = (byte[])failure.Clone();
        sizeWithNullPointer[24] = 4;
        Assert.Throws<KmsProtocolException>(() => AwaitingResponse().ReadResponse(sizeWithNullPointer));
    }

    [Fact]
    public void Ndr64_response_is_read_with_64_bit_fields()
    {
        var client = AwaitingResponse(secondRequest: true);
        Assert.Equal(RpcTransferSyntax.Ndr64, client.LastRequestSyntax);
        Assert.Equal(160, client.ReadResponse(Recorded[7].Bytes).KmsResponse.Length);

        // An NDR32 reading of the NDR64 response must not pass.
        var ndr32Client = AwaitingResponse();
        Assert.Throws<KmsProtocolException>(() => ndr32Client.ReadResponse(Recorded[7].Bytes));
    }

    [Fact]
    public void Every_truncation_and_every_byte_flip_of_the_recorded_replies_is_either_accepted_or_a_protocol_error()
    {
        var steps = new (int Index, Func<RpcClientSession> Make, Action<RpcClientSession, byte[]> Act)[]
        {
            (1, AwaitingBindAck, (c, pdu) => c.HandleBindReply(pdu, new ArrayBufferWriter<byte>())),
            (3, () =>
            {
                var c = AwaitingBindAck();
                c.HandleBindReply(Recorded[1].Bytes, new ArrayBufferWriter<byte>());
                return c;
            }, (c, pdu) => c.HandleAlterContextReply(pdu)),
            (5, () => AwaitingResponse(), (c, pdu) => c.ReadResponse(pdu)),
            (7, () => AwaitingResponse(secondRequest: true), (c, pdu) => c.ReadResponse(pdu)),
        };

        int refused = 0;
        foreach (var (index, make, act) in steps)
        {
            byte[] original = Recorded[index].Bytes!;
            var variants = new List<byte[]>();
            for (int length = 0; length < original.Length; length++)
            {
                variants.Add(original[..length]);
            }

            for (int i = 0; i < original.Length; i++)
            {
                byte[] flipped = (byte[])original.Clone();
                flipped[i] ^= 0x41;
                variants.Add(flipped);
            }

            foreach (var variant in variants)
            {
                try
                {
                    act(make(), variant);
                }
                catch (KmsProtocolException)
                {
                    refused++;
                }
            }
        }

        Assert.True(refused > 0);
    }
}
