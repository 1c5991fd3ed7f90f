using System.Buffers;
using System.Buffers.Binary;
using KmsFarm.Protocol.Rpc;
using static KmsFarm.Protocol.Tests.Rpc.Pdus;

namespace KmsFarm.Protocol.Tests.Rpc;

/// <summary>bind / alter_context negotiation rules (PROTOCOL-NOTES §2.3) on hand-built PDUs.</summary>
public sealed class RpcServerNegotiationTests
{
    private static byte[] Ack(RpcServerSession session, byte[] pdu)
    {
        var result = ServerDriver.Drive(session, new ReadOnlySequence<byte>(pdu));
        Assert.Equal(RpcStatus.NeedMoreData, result.Final);
        return Assert.Single(result.Pdus);
    }

    private static SurfacedCall Call(RpcServerSession session, ushort context, bool ndr64, uint callId = 7)
    {
        var result = ServerDriver.Drive(session, new ReadOnlySequence<byte>(Request(callId, context, ndr64, [1, 2, 3, 4])));
        return Assert.Single(result.Calls);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, false)]
    public void Several_transfer_syntaxes_in_one_element_pick_ndr64_only_when_enabled(bool ndr64Enabled, bool expectNdr64)
    {
        var session = Server(ndr64: ndr64Enabled);
        var results = Results(Ack(session, Bind(2, new Element(4, KmsInterface, Ndr32, Ndr64), new Element(5, KmsInterface, Btfn(1)))));
        Assert.Equal((ushort)0, results[0].Result);
        Assert.Equal(expectNdr64 ? Ndr64 : Ndr32, results[0].Syntax);
        Assert.Equal((ushort)3, results[1].Result);
        Assert.Equal((ushort)1, results[1].Reason);
        Assert.Equal(expectNdr64, Call(session, 4, expectNdr64).Call.IsNdr64);
    }

    [Fact]
    public void Element_with_unknown_transfer_syntaxes_or_none_is_rejected_with_reason_2()
    {
        byte[] unknown = (byte[])Ndr32.Clone();
        unknown[0] ^= 0xFF;
        byte[] ndr32WrongVersion = (byte[])Ndr32.Clone();
        ndr32WrongVersion[16] = 1;
        var results = Results(Ack(Server(), Bind(2,
            new Element(0, KmsInterface, unknown, ndr32WrongVersion),
            new Element(1, KmsInterface))));
        Assert.All(results, r => Assert.Equal(((ushort)2, (ushort)2), (r.Result, r.Reason)));
        Assert.All(results, r => Assert.All(r.Syntax, b => Assert.Equal(0, b)));
    }

    [Fact]
    public void Other_interface_version_is_rejected_with_reason_1()
    {
        byte[] version2 = (byte[])KmsInterface.Clone();
        version2[16] = 2;
        var results = Results(Ack(Server(), Bind(2, new Element(0, version2, Ndr32), new Element(1, OtherInterface, Ndr64))));
        Assert.All(results, r => Assert.Equal(((ushort)2, (ushort)1), (r.Result, r.Reason)));
    }

    [Theory]
    [InlineData(0x0003, 0x0003)]
    [InlineData(0x0001, 0x0001)]
    [InlineData(0xFFFF, 0x0003)]
    [InlineData(0x0000, 0x0000)]
    public void Btfn_grants_the_requested_subset_of_the_supported_bits(int requested, int granted)
    {
        var results = Results(Ack(Server(), Bind(2, new Element(2, KmsInterface, Btfn((ushort)requested)))));
        Assert.Equal(((ushort)3, (ushort)granted), (results[0].Result, results[0].Reason));
        Assert.All(results[0].Syntax, b => Assert.Equal(0, b));
    }

    [Fact]
    public void Btfn_disabled_rejects_with_reason_2()
    {
        var results = Results(Ack(Server(btfn: false), StandardBind()));
        Assert.Equal(((ushort)2, (ushort)2), (results[2].Result, results[2].Reason));
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void Ndr32_is_refused_only_when_ndr64_is_enabled_and_offered_in_the_same_pdu(bool ndr64Enabled, bool ndr32Accepted)
    {
        var session = Server(ndr64: ndr64Enabled);
        var results = Results(Ack(session, StandardBind()));
        Assert.Equal(ndr32Accepted ? (ushort)0 : (ushort)2, results[0].Result);
        Assert.Equal(ndr64Enabled ? (ushort)0 : (ushort)2, results[1].Result);

        // NDR32 alone (not offered with NDR64) is accepted either way, in an alter_context too.
        var alter = Ack(session, AlterContext(2, new Element(0, KmsInterface, Ndr32)));
        Assert.Equal(15, alter[2]);
        Assert.Equal((ushort)0, Results(alter)[0].Result);
    }

    [Fact]
    public void Alter_context_offering_ndr64_also_refuses_ndr32()
    {
        var session = Server();
        var results = Results(Ack(session, AlterContext(2, new Element(0, KmsInterface, Ndr32), new Element(1, KmsInterface, Ndr64))));
        Assert.Equal(((ushort)2, (ushort)2), (results[0].Result, results[0].Reason));
        Assert.Equal((ushort)0, results[1].Result);
    }

    [Theory]
    [InlineData(0x13, 0x13)]
    [InlineData(0x03, 0x03)]
    [InlineData(0x13 | 0x04 | 0x08 | 0x40 | 0x80, 0x13)]
    [InlineData(0x03 | 0x20, 0x03)]
    public void Bind_ack_header_is_fresh_and_only_echoes_conc_mpx(int bindFlags, int ackFlags)
    {
        byte[] bind = StandardBind(callId: 0xAABBCCDD);
        bind[3] = (byte)bindFlags;
        bind[4] = 0x10;
        bind[5] = 0x01; // an unusual float representation is ignored
        byte[] ack = Ack(Server(), bind);
        Assert.Equal(ackFlags, ack[3]);
        Assert.Equal(new byte[] { 5, 0, 12 }, ack[..3]);
        Assert.Equal(new byte[] { 0x10, 0, 0, 0 }, ack[4..8]);
        Assert.Equal(ack.Length, BinaryPrimitives.ReadUInt16LittleEndian(ack.AsSpan(8)));
        Assert.Equal(0, BinaryPrimitives.ReadUInt16LittleEndian(ack.AsSpan(10)));
        Assert.Equal(0xAABBCCDDu, CallId(ack));

        byte[] alter = AlterContext(0x01020304, new Element(0, KmsInterface, Ndr32));
        alter[3] = (byte)bindFlags;
        byte[] alterResp = Ack(Server(), alter);
        Assert.Equal(0x03, alterResp[3]);
        Assert.Equal(0x01020304u, CallId(alterResp));
    }

    [Theory]
    [InlineData(1688, "313638380000000000")]
    [InlineData(17685, "3137363835000000")]
    [InlineData(80, "383000000000")]
    [InlineData(0, "30000000")]
    [InlineData(65535, "3635353335000000")]
    public void Secondary_address_is_the_local_port_with_nul_and_zero_padding(int port, string addressAndPadding)
    {
        byte[] ack = Ack(Server(port: (ushort)port), StandardBind());
        int length = BinaryPrimitives.ReadUInt16LittleEndian(ack.AsSpan(24));
        Assert.Equal(port.ToString(System.Globalization.CultureInfo.InvariantCulture).Length + 1, length);
        int resultsOffset = 26 + length + ((4 - ((26 + length) % 4)) % 4);
        Assert.Equal(addressAndPadding[..((resultsOffset - 26) * 2)], Convert.ToHexString(ack.AsSpan(26, resultsOffset - 26)), ignoreCase: true);
        Assert.Equal(3, Results(ack).Count);
    }

    [Fact]
    public void Max_fragment_sizes_are_echoed_and_clamped_and_the_association_group_is_ours()
    {
        byte[] bind = StandardBind();
        BinaryPrimitives.WriteUInt16LittleEndian(bind.AsSpan(16), 0xFFFF);
        BinaryPrimitives.WriteUInt16LittleEndian(bind.AsSpan(18), 2048);
        BinaryPrimitives.WriteUInt32LittleEndian(bind.AsSpan(20), 0xDEADBEEF);
        byte[] ack = Ack(Server(), bind);
        Assert.Equal(5840, BinaryPrimitives.ReadUInt16LittleEndian(ack.AsSpan(16)));
        Assert.Equal(2048, BinaryPrimitives.ReadUInt16LittleEndian(ack.AsSpan(18)));
        Assert.Equal(0x12345678u, BinaryPrimitives.ReadUInt32LittleEndian(ack.AsSpan(20)));
    }

    [Fact]
    public void Bind_without_context_elements_gets_an_empty_bind_ack()
    {
        var session = Server();
        Assert.Empty(Results(Ack(session, Bind(2))));
        Assert.False(session.IsBound);
    }

    [Fact]
    public void Context_table_is_bounded_and_refuses_the_rest_with_reason_3()
    {
        var elements = Enumerable.Range(0, RpcServerSession.MaxContexts + 2)
            .Select(i => new Element((ushort)(100 + i), KmsInterface, Ndr32)).ToArray();
        var session = Server();
        var results = Results(Ack(session, Bind(2, elements)));
        Assert.All(results.Take(RpcServerSession.MaxContexts), r => Assert.Equal((ushort)0, r.Result));
        Assert.All(results.Skip(RpcServerSession.MaxContexts), r => Assert.Equal(((ushort)2, (ushort)3), (r.Result, r.Reason)));

        // Rebinding an id already in the table still works (the last binding wins).
        var rebind = Results(Ack(session, AlterContext(3, new Element(100, KmsInterface, Ndr64))));
        Assert.Equal((ushort)0, rebind[0].Result);
        Assert.True(Call(session, 100, ndr64: true).Call.IsNdr64);
    }

    [Fact]
    public void Last_binding_of_a_context_id_wins()
    {
        var session = Server();
        Ack(session, Bind(2, new Element(5, KmsInterface, Ndr64)));
        Assert.True(Call(session, 5, ndr64: true).Call.IsNdr64);
        Ack(session, AlterContext(2, new Element(5, KmsInterface, Ndr32)));
        Assert.False(Call(session, 5, ndr64: false).Call.IsNdr64);

        // A rejected element leaves the earlier binding in place.
        Ack(session, AlterContext(2, new Element(5, OtherInterface, Ndr32)));
        Assert.False(Call(session, 5, ndr64: false).Call.IsNdr64);
    }

    [Fact]
    public void Many_requests_on_one_connection_alternate_between_the_contexts()
    {
        var session = Server();
        Ack(session, StandardBind());
        Ack(session, AlterContext(2, new Element(0, KmsInterface, Ndr32)));
        for (uint i = 0; i < 20; i++)
        {
            bool ndr64 = i % 2 == 1;
            byte[] payload = Enumerable.Range(0, 252 + (int)i).Select(b => (byte)(b + i)).ToArray();
            var result = ServerDriver.Drive(session, new ReadOnlySequence<byte>(Request(2 + i, ndr64 ? (ushort)1 : (ushort)0, ndr64, payload)));
            var call = Assert.Single(result.Calls);
            Assert.Equal((2 + i, ndr64), (call.Call.CallId, call.Call.IsNdr64));
            Assert.Equal(payload, call.Payload);
            var response = Assert.Single(result.Pdus);
            Assert.Equal(2 + i, CallId(response));
            Assert.Equal(ndr64 ? 1 : 0, response[20]);
        }
    }
}
