using System.Buffers;
using KmsFarm.Protocol.Rpc;
using KmsFarm.TestKit;

namespace KmsFarm.Protocol.Tests.Rpc;

/// <summary>The hand-crafted raw vectors (recorded against vlmcsd -N1 -B1 on port 17685).</summary>
public sealed class RpcServerRawVectorTests
{
    public static TheoryData<string> RawNames => new(RecordedVectors.RawNames);

    [Theory]
    [MemberData(nameof(RawNames))]
    public void Raw_vector_replays_like_the_recording(string name)
    {
        var messages = RecordedVectors.LoadRaw(name);
        var session = new RpcServerSession(new RpcServerOptions(), VectorFacts.AssociationGroup(messages), 17685);
        var responses = messages.Where(m => !m.FromClient && m.Bytes is { } b && b[2] == 2).Select(m => m.Bytes!).ToList();
        int nextResponse = 0;
        ServerDriver.Answer answer = (s, call, output) =>
        {
            var (hresult, data) = VectorFacts.ReadRecordedResponse(responses[nextResponse++], call.IsNdr64);
            if (data is null)
            {
                s.WriteFailure(call, hresult, output);
            }
            else
            {
                s.WriteResponse(call, data, output);
            }
        };

        for (int i = 0; i < messages.Count; i++)
        {
            var request = messages[i];
            Assert.True(request.FromClient);
            var reply = messages[i + 1];
            i++;
            var result = ServerDriver.Drive(session, new ReadOnlySequence<byte>(request.Bytes!), answer);
            if (reply.Bytes is null)
            {
                // vlmcsd closed without a reply.
                Assert.Equal(RpcStatus.Close, result.Final);
                Assert.Empty(result.Pdus);
                Assert.NotNull(result.CloseReason);
                continue;
            }

            Assert.Equal(RpcStatus.NeedMoreData, result.Final);
            var ours = Assert.Single(result.Pdus);
            byte[] expected = VectorFacts.Normalize(reply.Bytes);
            if (expected[2] == 3)
            {
                // Our faults echo the request's call_id; vlmcsd always sends 2.
                BitConverter.TryWriteBytes(expected.AsSpan(12), Pdus.CallId(request.Bytes!));
            }

            Assert.Equal(Convert.ToHexString(expected), Convert.ToHexString(ours));
        }
    }

    [Fact]
    public void Request_before_bind_gets_nca_unk_if_with_its_own_call_id()
    {
        var request = RecordedVectors.LoadRaw("raw_request_before_bind")[0].Bytes!;
        var result = ServerDriver.Drive(Pdus.Server(), new ReadOnlySequence<byte>(request));
        var fault = Assert.Single(result.Pdus);
        Assert.Equal(RpcFaultStatus.UnknownInterface, Pdus.FaultStatus(fault));
        Assert.Equal(9u, Pdus.CallId(fault));
        Assert.Equal(0x23, fault[3]);
        Assert.Empty(result.Calls);
        Assert.Equal(RpcStatus.NeedMoreData, result.Final);
    }

    [Fact]
    public void Request_on_an_unbound_context_gets_nca_unk_if_and_the_connection_stays_usable()
    {
        var messages = RecordedVectors.LoadRaw("raw_request_unknown_context");
        var session = Pdus.Server();
        ServerDriver.Drive(session, new ReadOnlySequence<byte>(messages[0].Bytes!));
        var result = ServerDriver.Drive(session, new ReadOnlySequence<byte>(messages[2].Bytes!));
        var fault = Assert.Single(result.Pdus);
        Assert.Equal(RpcFaultStatus.UnknownInterface, Pdus.FaultStatus(fault));
        Assert.Equal(5u, Pdus.CallId(fault));

        // Context 0 is bound (NDR32): the same request on it is surfaced.
        byte[] onContext0 = (byte[])messages[2].Bytes!.Clone();
        onContext0[20] = 0;
        var call = Assert.Single(ServerDriver.Drive(session, new ReadOnlySequence<byte>(onContext0)).Calls);
        Assert.Equal(0, call.Call.ContextId);
        Assert.False(call.Call.IsNdr64);
        Assert.Equal(260, call.Payload.Length);
    }

    [Fact]
    public void Unknown_ptype_closes_without_reply()
    {
        var pdu = RecordedVectors.LoadRaw("raw_unknown_ptype")[0].Bytes!;
        var result = ServerDriver.Drive(Pdus.Server(), new ReadOnlySequence<byte>(pdu));
        Assert.Equal(RpcStatus.Close, result.Final);
        Assert.Empty(result.Pdus);
        Assert.Contains("PTYPE 19", result.CloseReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Bind_to_another_interface_is_rejected_with_reason_1_inside_a_valid_bind_ack()
    {
        var pdu = RecordedVectors.LoadRaw("raw_bind_other_interface")[0].Bytes!;
        var result = ServerDriver.Drive(Pdus.Server(), new ReadOnlySequence<byte>(pdu));
        var results = Pdus.Results(Assert.Single(result.Pdus));
        Assert.Equal((ushort)2, results[0].Result);
        Assert.Equal((ushort)1, results[0].Reason);
        Assert.All(results[0].Syntax, b => Assert.Equal(0, b));
        Assert.Equal((ushort)0, results[1].Result);
        Assert.Equal(Pdus.Ndr32, results[1].Syntax);
    }
}
