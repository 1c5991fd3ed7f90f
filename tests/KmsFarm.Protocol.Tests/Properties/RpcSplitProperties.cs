using System.Buffers;
using FsCheck;
using FsCheck.Fluent;
using KmsFarm.Protocol.Rpc;
using KmsFarm.Protocol.Tests.Rpc;
using KmsFarm.TestKit;
using static KmsFarm.Protocol.Tests.Rpc.Pdus;

namespace KmsFarm.Protocol.Tests.Properties;

/// <summary>A DCE/RPC conversation split at arbitrary points, whether the pieces are handed over at once as one
/// multi-segment buffer or arrive one after the other, gives the same calls and the same replies as the unsplit stream.</summary>
public sealed class RpcSplitProperties
{
    [Fact]
    public void Client_stream_split_anywhere_gives_the_same_calls_and_replies() =>
        TestKit.Properties.Check("RPC client stream split anywhere", Prop.ForAll(Conversations(), c =>
        {
            var whole = ServerDriver.Drive(NewServer(), new ReadOnlySequence<byte>(c.Stream));
            Assert.Equal(RpcStatus.NeedMoreData, whole.Final);
            Assert.Equal(0, whole.Unconsumed);
            AssertCalls(c.Calls, whole.Calls);

            var atOnce = ServerDriver.Drive(NewServer(), Sequences.FromSegments([.. c.Pieces()]));
            AssertSame(whole, atOnce.Pdus, atOnce.Calls);

            var (pdus, calls) = ArriveOneByOne(c.Pieces());
            AssertSame(whole, pdus, calls);
        }), maxTest: 200);

    [Fact]
    public void Server_replies_split_anywhere_are_framed_into_the_same_pdus() =>
        TestKit.Properties.Check("RPC server replies split anywhere", Prop.ForAll(Conversations(), c =>
        {
            var replies = ServerDriver.Drive(NewServer(), new ReadOnlySequence<byte>(c.Stream)).Pdus;
            byte[] stream = VectorFacts.Concat(replies);
            var buffer = Sequences.FromSegments(Cut(stream, c.Cuts));
            var framed = new List<byte[]>();
            while (RpcFrameScanner.TryReadFrame(ref buffer, RpcClientOptions.DefaultMaxFragmentLength, out var frame) == OperationStatus.Done)
            {
                framed.Add(frame.ToArray());
            }

            Assert.Equal(0, buffer.Length);
            Assert.Equal(replies, framed);
        }), maxTest: 200);

    private static RpcServerSession NewServer() => Server(ndr64: true, btfn: true);

    /// <summary>The segments arrive one at a time; after each, the session runs until it needs more data.</summary>
    private static (List<byte[]> Pdus, List<SurfacedCall> Calls) ArriveOneByOne(IReadOnlyList<ReadOnlyMemory<byte>> pieces)
    {
        var session = NewServer();
        var pdus = new List<byte[]>();
        var calls = new List<SurfacedCall>();
        var pending = new List<ReadOnlyMemory<byte>>();
        foreach (var piece in pieces)
        {
            pending.Add(piece);
            var buffer = Sequences.FromSegments([.. pending]);
            var result = ServerDriver.Drive(session, buffer);
            Assert.NotEqual(RpcStatus.Close, result.Final);
            pdus.AddRange(result.Pdus);
            calls.AddRange(result.Calls);

            // Keep the unconsumed tail, still in its original segments.
            pending.Clear();
            foreach (var memory in buffer.Slice(buffer.Length - result.Unconsumed))
            {
                pending.Add(memory);
            }
        }

        return (pdus, calls);
    }

    private static void AssertSame(DriveResult whole, List<byte[]> pdus, List<SurfacedCall> calls)
    {
        Assert.Equal(whole.Pdus, pdus);
        Assert.Equal(whole.Calls.Select(c => (c.Call.CallId, c.Call.ContextId, c.Call.IsNdr64)), calls.Select(c => (c.Call.CallId, c.Call.ContextId, c.Call.IsNdr64)));
        Assert.Equal(whole.Calls.Select(c => c.Payload), calls.Select(c => c.Payload));
    }

    private static void AssertCalls(IReadOnlyList<ExpectedCall> expected, List<SurfacedCall> calls)
    {
        Assert.Equal(expected.Select(e => (e.CallId, e.ContextId, e.Ndr64)), calls.Select(c => (c.Call.CallId, c.Call.ContextId, c.Call.IsNdr64)));
        Assert.Equal(expected.Select(e => e.Payload), calls.Select(c => c.Payload));
    }

    /// <summary>A bind (NDR32 on context 0), an alter_context (NDR64 on context 1), then 1–4 requests of 0–300 payload
    /// bytes on either context, each sent as 1–3 fragments cut anywhere; and up to 12 cut points for the whole stream.</summary>
    private static Arbitrary<Conversation> Conversations()
    {
        var request = Gen.Zip(ArbMap.Default.GeneratorFor<bool>(), Gen.Choose(0, 300))
            .SelectMany(x => KmsArbitraries.Bytes(x.Item2), (x, payload) => (Ndr64: x.Item1, Payload: payload))
            .SelectMany(x => Gen.ListOf(Gen.Choose(0, 1000), 2), (x, cuts) => (x.Ndr64, x.Payload, Cuts: cuts))
            .SelectMany(x => Gen.Choose(1, 3), (x, fragments) => (x.Ndr64, x.Payload, Cuts: x.Cuts.Take(fragments - 1).ToArray()));
        return Gen.Choose(1, 4)
            .SelectMany(n => Gen.ListOf(request, n), (_, requests) => requests)
            .SelectMany(_ => Gen.Choose(0, 12).SelectMany(n => Gen.ListOf(Gen.Choose(0, int.MaxValue), n), (_, cuts) => cuts),
                (requests, cuts) => Conversation.Build(requests, cuts))
            .ToArbitrary();
    }

    private static ReadOnlyMemory<byte>[] Cut(byte[] data, IReadOnlyList<int> cuts)
    {
        int[] points = [0, .. cuts.Select(c => data.Length == 0 ? 0 : c % (data.Length + 1)).Order(), data.Length];
        return points.Zip(points.Skip(1), (from, to) => (ReadOnlyMemory<byte>)data.AsMemory(from, to - from)).ToArray();
    }

    public sealed record ExpectedCall(uint CallId, ushort ContextId, bool Ndr64, byte[] Payload);

    public sealed record Conversation(byte[] Stream, IReadOnlyList<ExpectedCall> Calls, IReadOnlyList<int> Cuts)
    {
        public IReadOnlyList<ReadOnlyMemory<byte>> Pieces() => Cut(Stream, Cuts);

        public static Conversation Build(IEnumerable<(bool Ndr64, byte[] Payload, int[] Cuts)> requests, IReadOnlyList<int> cuts)
        {
            var pdus = new List<byte[]>
            {
                Bind(2, new Element(0, KmsInterface, Ndr32)),
                AlterContext(2, new Element(1, KmsInterface, Ndr64)),
            };
            var calls = new List<ExpectedCall>();
            uint callId = 2;
            foreach (var (ndr64, payload, fragmentCuts) in requests)
            {
                ushort context = (ushort)(ndr64 ? 1 : 0);
                byte[] stub = Request(callId, context, ndr64, payload).AsSpan(24).ToArray();
                var fragments = Cut(stub, fragmentCuts);
                for (int i = 0; i < fragments.Length; i++)
                {
                    byte flags = (byte)((i == 0 ? 0x01 : 0) | (i == fragments.Length - 1 ? 0x02 : 0));
                    pdus.Add(RequestWithStub(callId, context, fragments[i].ToArray(), flags: flags));
                }

                calls.Add(new ExpectedCall(callId, context, ndr64, payload));
                callId++;
            }

            return new Conversation(VectorFacts.Concat(pdus), calls, cuts);
        }

        public override string ToString() =>
            $"{Calls.Count} calls ({string.Join(", ", Calls.Select(c => $"{c.CallId}/{c.ContextId}/{c.Payload.Length}"))}), " +
            $"stream {Convert.ToHexString(Stream)}, cuts [{string.Join(", ", Cuts)}]";
    }
}
