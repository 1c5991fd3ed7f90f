using System.Buffers;
using System.Buffers.Binary;
using KmsFarm.Protocol.Rpc;
using KmsFarm.TestKit;
using static KmsFarm.Protocol.Tests.Rpc.Pdus;

namespace KmsFarm.Protocol.Tests.Rpc;

/// <summary>Request validation, faults, fragment reassembly and the response writers.</summary>
public sealed class RpcServerRequestTests
{
    private static readonly byte[] Payload = Enumerable.Range(0, 260).Select(i => (byte)(i * 7)).ToArray();

    /// <summary>A session after the vlmcs flow: context 0 = NDR32 (via alter_context), context 1 = NDR64.</summary>
    private static RpcServerSession Bound(int maxStub = 1024)
    {
        var session = Server(maxStub: maxStub);
        ServerDriver.Drive(session, new ReadOnlySequence<byte>([.. StandardBind(), .. AlterContext(2, new Element(0, KmsInterface, Ndr32))]));
        return session;
    }

    private static DriveResult Send(RpcServerSession session, params byte[][] pdus) =>
        ServerDriver.Drive(session, new ReadOnlySequence<byte>(VectorFacts.Concat(pdus)));

    [Fact]
    public void Opnum_other_than_0_gets_nca_s_op_rng_error_echoing_call_and_context()
    {
        var result = Send(Bound(), Request(41, 1, true, Payload, opnum: 1));
        var fault = Assert.Single(result.Pdus);
        Assert.Equal(RpcFaultStatus.OperationRangeError, FaultStatus(fault));
        Assert.Equal(41u, CallId(fault));
        Assert.Equal(1, fault[20]);
        Assert.Equal(0x23, fault[3]);
        Assert.Empty(result.Calls);
    }

    public static TheoryData<string, byte[]> BadStubs => new()
    {
        { "sizes differ", [0x04, 0, 0, 0, 0x05, 0, 0, 0, 1, 2, 3, 4, 5] },
        { "size exceeds stub", [0x09, 0, 0, 0, 0x09, 0, 0, 0, 1, 2, 3, 4] },
        { "no NDR header", [0x04, 0, 0, 0] },
        { "empty stub", [] },
        { "non-zero trailing bytes", [0x02, 0, 0, 0, 0x02, 0, 0, 0, 1, 2, 9, 0] },
        { "8 trailing bytes", [0x01, 0, 0, 0, 0x01, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0] },
        { "huge size", [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1] },
    };

    [Theory]
    [MemberData(nameof(BadStubs))]
    public void Inconsistent_ndr32_stub_gets_nca_s_proto_error(string why, byte[] stub)
    {
        var result = Send(Bound(), RequestWithStub(12, 0, stub));
        Assert.True(RpcFaultStatus.ProtocolError == FaultStatus(Assert.Single(result.Pdus)), why);
        Assert.Empty(result.Calls);
        Assert.Equal(RpcStatus.NeedMoreData, result.Final);
    }

    [Fact]
    public void Ndr64_sizes_above_32_bits_get_nca_s_proto_error()
    {
        byte[] pdu = Request(3, 1, true, Payload);
        pdu[28] = 1; // bit 32 of the u64 size
        pdu[36] = 1; // and of max_count, so they still agree
        Assert.Equal(RpcFaultStatus.ProtocolError, FaultStatus(Assert.Single(Send(Bound(), pdu).Pdus)));
    }

    [Fact]
    public void Zero_alignment_bytes_after_the_request_are_tolerated()
    {
        byte[] stub = [0x03, 0, 0, 0, 0x03, 0, 0, 0, 7, 8, 9, 0];
        var call = Assert.Single(Send(Bound(), RequestWithStub(12, 0, stub)).Calls);
        Assert.Equal(new byte[] { 7, 8, 9 }, call.Payload);
    }

    [Fact]
    public void Object_uuid_in_the_request_header_is_skipped()
    {
        byte[] plain = Request(8, 0, false, Payload);
        byte[] withObject = [.. plain[..24], .. Enumerable.Repeat((byte)0xEE, 16), .. plain[24..]];
        withObject[3] |= 0x80;
        BinaryPrimitives.WriteUInt16LittleEndian(withObject.AsSpan(8), (ushort)withObject.Length);
        var call = Assert.Single(Send(Bound(), withObject).Calls);
        Assert.Equal(Payload, call.Payload);
    }

    private static byte[][] Fragments(uint callId, ushort context, bool ndr64, byte[] payload, params int[] cuts)
    {
        byte[] whole = Request(callId, context, ndr64, payload);
        byte[] stub = whole[24..];
        var pieces = new List<byte[]>();
        int start = 0;
        foreach (int end in cuts.Append(stub.Length))
        {
            byte flags = (byte)((start == 0 ? 0x01 : 0) | (end == stub.Length ? 0x02 : 0));
            pieces.Add(RequestWithStub(callId, context, stub[start..end], 0, flags));
            start = end;
        }

        return pieces.ToArray();
    }

    [Theory]
    [InlineData(false, new[] { 5 })]
    [InlineData(true, new[] { 1, 100, 101, 250 })]
    [InlineData(false, new[] { 8, 9, 10, 11, 12, 13 })]
    public void Fragmented_request_is_reassembled(bool ndr64, int[] cuts)
    {
        var fragments = Fragments(77, ndr64 ? (ushort)1 : (ushort)0, ndr64, Payload, cuts);
        byte[] stream = VectorFacts.Concat(fragments);
        foreach (var (shape, sequence) in Sequences.AllShapes(stream))
        {
            var result = ServerDriver.Drive(Bound(), sequence);
            var call = Assert.Single(result.Calls);
            Assert.True(Payload.AsSpan().SequenceEqual(call.Payload), shape);
            Assert.Equal((77u, ndr64), (call.Call.CallId, call.Call.IsNdr64));
            Assert.Single(result.Pdus); // only the response: fragments get no reply of their own
        }
    }

    [Fact]
    public void Fragments_are_bounded_by_max_request_stub_length()
    {
        int stubLength = 8 + Payload.Length; // 268
        var atLimit = Send(Bound(maxStub: stubLength), Fragments(5, 0, false, Payload, 100, 200));
        Assert.Single(atLimit.Calls);

        var session = Bound(maxStub: stubLength - 1);
        var over = Send(session, Fragments(5, 0, false, Payload, 100, 200));
        Assert.Equal(RpcStatus.Close, over.Final);
        Assert.Empty(over.Calls);
        Assert.Empty(over.Pdus);
        Assert.Contains("exceeds", session.CloseReason, StringComparison.Ordinal);

        // Endless middle fragments never grow anything: the session closes at the bound.
        var endless = Bound(maxStub: 1024);
        var first = RequestWithStub(6, 0, new byte[1000], 0, 0x01);
        var middle = RequestWithStub(6, 0, new byte[1000], 0, 0x00);
        Assert.Equal(RpcStatus.Close, Send(endless, first, middle, middle, middle).Final);
    }

    [Fact]
    public void Single_request_larger_than_the_bound_closes()
    {
        var session = Bound(maxStub: 200);
        var result = Send(session, Request(2, 0, false, Payload));
        Assert.Equal(RpcStatus.Close, result.Final);
        Assert.NotNull(session.CloseReason);
    }

    public static TheoryData<string, byte[][]> BrokenFragmentSequences()
    {
        var good = Fragments(9, 0, false, Payload, 100, 200);
        return new TheoryData<string, byte[][]>
        {
            { "middle without first", [good[1]] },
            { "last without first", [good[2]] },
            { "other call_id", [good[0], Fragments(10, 0, false, Payload, 100, 200)[1]] },
            { "other context", [good[0], Fragments(9, 1, false, Payload, 100, 200)[1]] },
            { "other opnum", [good[0], RequestWithStub(9, 0, good[1][24..], 3, 0x00)] },
            { "new first before last", [good[0], good[0]] },
            { "bind inside a fragmented request", [good[0], StandardBind()] },
        };
    }

    [Theory]
    [MemberData(nameof(BrokenFragmentSequences))]
    public void Broken_fragment_sequences_close(string why, byte[][] pdus)
    {
        var session = Bound();
        var result = Send(session, pdus);
        Assert.True(result.Final == RpcStatus.Close, why);
        Assert.Empty(result.Calls);
        Assert.Empty(result.Pdus);

        // Once closed, the session stays closed.
        var again = new ReadOnlySequence<byte>(Request(1, 0, false, Payload));
        Assert.Equal(RpcStatus.Close, session.Process(ref again, new ArrayBufferWriter<byte>(), out _));
    }

    [Fact]
    public void Fragmented_request_on_an_unbound_context_gets_one_fault_after_the_last_fragment()
    {
        var result = Send(Bound(), Fragments(31, 9, false, Payload, 50));
        Assert.Equal(RpcFaultStatus.UnknownInterface, FaultStatus(Assert.Single(result.Pdus)));
        Assert.Equal(31u, CallId(result.Pdus[0]));
    }

    [Theory]
    [InlineData(false, 1, "0100000000000200010000002a000000" + "00000000")]
    [InlineData(false, 4, "04000000000002000400000001020304" + "00000000")]
    [InlineData(true, 5, "0500000000000000000002000000000005000000000000000102030405000000" + "00000000")]
    public void Response_stub_pads_the_data_to_4_with_zeros_before_the_return_value(bool ndr64, int length, string stubHex)
    {
        var session = Bound();
        var input = new ReadOnlySequence<byte>(Request(3, ndr64 ? (ushort)1 : (ushort)0, ndr64, Payload));
        var call = Assert.Single(ServerDriver.Drive(session, input, (_, _, _) => { }).Calls).Call;
        byte[] data = length == 1 ? [0x2A] : Enumerable.Range(1, length).Select(i => (byte)i).ToArray();
        var output = new ArrayBufferWriter<byte>();
        session.WriteResponse(call, data, output);
        byte[] pdu = output.WrittenSpan.ToArray();
        Assert.Equal(stubHex, Convert.ToHexString(pdu.AsSpan(24)), ignoreCase: true);
        Assert.Equal(pdu.Length - 24, BinaryPrimitives.ReadInt32LittleEndian(pdu.AsSpan(16)));
        Assert.Equal("05000203100000", Convert.ToHexString(pdu.AsSpan(0, 7)), ignoreCase: true);
    }

    [Fact]
    public void A_call_answered_with_a_fault_gets_it_with_its_call_and_context_and_the_association_goes_on()
    {
        var session = Bound();
        var call = Assert.Single(ServerDriver.Drive(session, new ReadOnlySequence<byte>(Request(7, 1, true, Payload)), (_, _, _) => { }).Calls).Call;
        var output = new ArrayBufferWriter<byte>();
        session.WriteFault(call, RpcFaultStatus.ServerTooBusy, output);
        byte[] fault = output.WrittenSpan.ToArray();
        Assert.Equal(RpcFaultStatus.ServerTooBusy, FaultStatus(fault));
        Assert.Equal(7u, CallId(fault));
        Assert.Equal(1, fault[20]);
        Assert.Equal(0x23, fault[3]); // first | last | did not execute
        Assert.Throws<InvalidOperationException>(() => session.WriteFault(call, RpcFaultStatus.ServerTooBusy, new ArrayBufferWriter<byte>()));

        var next = Send(session, Request(8, 0, false, Payload));
        Assert.Equal(8u, Assert.Single(next.Calls).Call.CallId);
    }

    [Fact]
    public void Each_call_is_answered_exactly_once()
    {
        var session = Bound();
        var call = Assert.Single(Send(session, Request(3, 0, false, Payload)).Calls).Call;
        Assert.Throws<InvalidOperationException>(() => session.WriteFailure(call, 0x8007000D, new ArrayBufferWriter<byte>()));
        Assert.Throws<InvalidOperationException>(() => session.WriteResponse(call, [1], new ArrayBufferWriter<byte>()));
        Assert.Throws<InvalidOperationException>(() => Pdus.Server().WriteResponse(call, [1], new ArrayBufferWriter<byte>()));
    }

    [Fact]
    public void Options_out_of_range_are_refused_naming_the_setting()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new RpcServerSession(new RpcServerOptions { MaxFragmentLength = 70000 }, 1, 1));
        Assert.Equal("MaxFragmentLength", e.ParamName);
        e = Assert.Throws<ArgumentOutOfRangeException>(() => new RpcServerSession(new RpcServerOptions { MaxRequestStubLength = 0 }, 1, 1));
        Assert.Equal("MaxRequestStubLength", e.ParamName);
    }
}
