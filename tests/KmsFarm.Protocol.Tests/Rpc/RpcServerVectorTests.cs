using System.Buffers;
using KmsFarm.Protocol.Rpc;
using KmsFarm.TestKit;

namespace KmsFarm.Protocol.Tests.Rpc;

/// <summary>Replays every recorded client PDU into a server session configured like the recording server.</summary>
public sealed class RpcServerVectorTests
{
    public static TheoryData<string> VectorNames => new(RecordedVectors.Names);

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Replies_match_the_recording_pdu_by_pdu(string name)
    {
        var vector = RecordedVectors.Load(name);
        foreach (var connection in vector.Connections)
        {
            var session = NewSession(vector, connection);
            var answer = VectorFacts.RecordedAnswers(connection);
            var expected = new Queue<RecordedPdu>(connection.ServerToClient);
            foreach (var request in connection.ClientToServer)
            {
                var result = ServerDriver.Drive(session, new ReadOnlySequence<byte>(request.Bytes!), answer);
                Assert.Equal(RpcStatus.NeedMoreData, result.Final);
                Assert.Equal(0, result.Unconsumed);
                foreach (var pdu in result.Pdus)
                {
                    var recorded = expected.Dequeue();
                    Assert.Equal(Convert.ToHexString(VectorFacts.Normalize(recorded.Bytes!)), Convert.ToHexString(pdu));
                }

                if (request.Bytes![2] == 0)
                {
                    var call = Assert.Single(result.Calls);
                    CheckCall(connection, request, call);
                }
                else
                {
                    Assert.Empty(result.Calls);
                }
            }

            Assert.Empty(expected);
        }
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Bind_ack_is_byte_identical_apart_from_stale_padding(string name)
    {
        // vlmcsd's only deviation from our output is the padding it leaves uninitialised; everything else, including
        // the secondary address (the recording server's port) and the echoed CONC_MPX flag, is identical.
        var vector = RecordedVectors.Load(name);
        var connection = vector.Connections[0];
        var bind = connection.Messages[0];
        var ack = connection.Messages[1];
        var result = ServerDriver.Drive(NewSession(vector, connection), new ReadOnlySequence<byte>(bind.Bytes!));
        var ours = Assert.Single(result.Pdus);
        Assert.Equal(ack.Bytes!.Length, ours.Length);
        Assert.Equal(bind.Bytes![3] & 0x10, ours[3] & 0x10);
        Assert.Equal(VectorFacts.Normalize(ack.Bytes), ours);
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Whole_conversation_gives_the_same_result_however_the_bytes_are_segmented(string name)
    {
        var vector = RecordedVectors.Load(name);
        var connection = vector.Connections[0];
        byte[] stream = VectorFacts.Concat(connection.ClientToServer.Select(m => m.Bytes!));
        var expected = connection.ServerToClient.Select(m => Convert.ToHexString(VectorFacts.Normalize(m.Bytes!))).ToList();
        var requests = connection.ClientToServer.Where(m => m.Bytes![2] == 0).ToList();
        foreach (var (shape, sequence) in Sequences.AllShapes(stream))
        {
            var result = ServerDriver.Drive(NewSession(vector, connection), sequence, VectorFacts.RecordedAnswers(connection));
            Assert.True(result.Final == RpcStatus.NeedMoreData && result.Unconsumed == 0, shape);
            Assert.True(expected.SequenceEqual(result.Pdus.Select(Convert.ToHexString)), shape);
            Assert.Equal(requests.Count, result.Calls.Count);
            for (int i = 0; i < requests.Count; i++)
            {
                CheckCall(connection, requests[i], result.Calls[i]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Each_pdu_gives_the_same_result_at_every_split(string name)
    {
        var vector = RecordedVectors.Load(name);
        var connection = vector.Connections[0];
        var clientPdus = connection.ClientToServer.Select(m => m.Bytes!).ToList();
        var reference = Replay(vector, connection, clientPdus, shapeIndex: -1, default);
        for (int i = 0; i < clientPdus.Count; i++)
        {
            foreach (var (shape, sequence) in Sequences.AllShapes(clientPdus[i]))
            {
                var replay = Replay(vector, connection, clientPdus, i, sequence);
                Assert.True(reference.SequenceEqual(replay), $"PDU {i} {shape}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Incomplete_pdus_wait_for_more_data(string name)
    {
        var vector = RecordedVectors.Load(name);
        var connection = vector.Connections[0];
        var session = NewSession(vector, connection);
        var answer = VectorFacts.RecordedAnswers(connection);
        foreach (var pdu in connection.ClientToServer.Select(m => m.Bytes!))
        {
            for (int length = 0; length < pdu.Length; length++)
            {
                var partial = new ReadOnlySequence<byte>(pdu, 0, length);
                var output = new ArrayBufferWriter<byte>();
                Assert.Equal(RpcStatus.NeedMoreData, session.Process(ref partial, output, out _));
                Assert.Equal(length, partial.Length);
                Assert.Equal(0, output.WrittenCount);
            }

            Assert.Equal(RpcStatus.NeedMoreData, ServerDriver.Drive(session, new ReadOnlySequence<byte>(pdu), answer).Final);
        }
    }

    private static List<string> Replay(RecordedVector vector, RecordedConnection connection, List<byte[]> pdus, int shapeIndex,
        ReadOnlySequence<byte> shaped)
    {
        var session = NewSession(vector, connection);
        var answer = VectorFacts.RecordedAnswers(connection);
        var log = new List<string>();
        for (int i = 0; i < pdus.Count; i++)
        {
            var input = i == shapeIndex ? shaped : new ReadOnlySequence<byte>(pdus[i]);
            var result = ServerDriver.Drive(session, input, answer);
            log.Add($"{result.Final} {result.Unconsumed} " + string.Join(",", result.Pdus.Select(Convert.ToHexString))
                + string.Join(",", result.Calls.Select(c => $"{c.Call.CallId}/{c.Call.ContextId}/{c.Call.IsNdr64}/{Convert.ToHexString(c.Payload)}")));
        }

        return log;
    }

    private static RpcServerSession NewSession(RecordedVector vector, RecordedConnection connection) =>
        new(VectorFacts.ServerOptions(vector), VectorFacts.AssociationGroup(connection.Messages), VectorFacts.ServerPort(connection));

    private static void CheckCall(RecordedConnection connection, RecordedPdu request, SurfacedCall call)
    {
        var body = request.Json.GetProperty("body");
        Assert.Equal(Pdus.CallId(request.Bytes!), call.Call.CallId);
        Assert.Equal(body.GetProperty("p_cont_id").GetInt32(), call.Call.ContextId);
        Assert.Equal(body.GetProperty("transfer_syntax").GetString() == "NDR64", call.Call.IsNdr64);
        Assert.Equal(VectorFacts.IsNdr64Request(request.Bytes!, connection), call.Call.IsNdr64);
        Assert.Equal(body.GetProperty("kms_request_hex").GetString(), Convert.ToHexString(call.Payload), ignoreCase: true);
    }
}
