using System.Buffers;
using System.Buffers.Binary;
using KmsFarm.Protocol.Rpc;
using KmsFarm.TestKit;
using static KmsFarm.Protocol.Tests.Rpc.Pdus;

namespace KmsFarm.Protocol.Tests.Rpc;

/// <summary>Malformed and truncated PDUs: NeedMoreData, Close or a fault — never an exception, never unbounded output.</summary>
public sealed class RpcServerMalformedTests
{
    public static TheoryData<string> VectorNames => new(RecordedVectors.Names);

    [Theory]
    [MemberData(nameof(VectorNames))]
    public void Every_truncation_with_a_matching_frag_length_closes_or_faults(string name)
    {
        var vector = RecordedVectors.Load(name);
        var connection = vector.Connections[0];
        var pdus = connection.ClientToServer.Select(m => m.Bytes!).ToList();
        for (int i = 0; i < pdus.Count; i++)
        {
            for (int length = 16; length < pdus[i].Length; length++)
            {
                var session = new RpcServerSession(VectorFacts.ServerOptions(vector), 1, 1688);
                foreach (var earlier in pdus.Take(i))
                {
                    ServerDriver.Drive(session, new ReadOnlySequence<byte>(earlier));
                }

                byte[] truncated = pdus[i][..length];
                BinaryPrimitives.WriteUInt16LittleEndian(truncated.AsSpan(8), (ushort)length);
                var result = ServerDriver.Drive(session, new ReadOnlySequence<byte>(truncated));
                Assert.Empty(result.Calls);
                if (truncated[2] == 0 && length >= 24)
                {
                    // The request header is there but the stub is short of its declared size.
                    Assert.Equal(RpcStatus.NeedMoreData, result.Final);
                    Assert.Equal(RpcFaultStatus.ProtocolError, FaultStatus(Assert.Single(result.Pdus)));
                    Assert.Equal(Pdus.CallId(truncated), Pdus.CallId(result.Pdus[0]));
                }
                else
                {
                    Assert.True(result.Final == RpcStatus.Close, $"{name} PDU {i} cut at {length}");
                    Assert.Empty(result.Pdus);
                    Assert.NotNull(result.CloseReason);
                }
            }
        }
    }

    public static TheoryData<string, int, byte> HeaderCorruptions => new()
    {
        { "rpc_vers 4", 0, 4 },
        { "rpc_vers_minor 1", 1, 1 },
        { "big-endian integers", 4, 0x00 },
        { "frag_length 15", 8, 15 },
        { "frag_length 0", 8, 0 },
        { "frag_length over the limit (high byte)", 9, 0x17 },
        { "frag_length 65535", 9, 0xFF },
        { "auth_length 8", 10, 8 },
        { "auth_length high byte", 11, 1 },
    };

    [Theory]
    [MemberData(nameof(HeaderCorruptions))]
    public void Bad_header_closes_as_soon_as_the_16_header_bytes_are_in(string why, int offset, byte value)
    {
        byte[] bind = StandardBind();
        bind[offset] = value;
        if (offset == 8)
        {
            bind[9] = 0;
        }

        // Only the header has arrived: the decision must not wait for (or buffer) the body.
        var session = Server();
        var input = new ReadOnlySequence<byte>(bind, 0, 16);
        var output = new ArrayBufferWriter<byte>();
        Assert.True(session.Process(ref input, output, out _) == RpcStatus.Close, why);
        Assert.Equal(0, output.WrittenCount);
        Assert.NotNull(session.CloseReason);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(7)]
    [InlineData(255)]
    public void Bind_whose_context_count_does_not_fit_closes(byte count)
    {
        byte[] bind = StandardBind();
        bind[24] = count;
        var session = Server();
        var result = ServerDriver.Drive(session, new ReadOnlySequence<byte>(bind));
        Assert.Equal(RpcStatus.Close, result.Final);
        Assert.Empty(result.Pdus);
        Assert.Contains("do not fit", session.CloseReason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(255)]
    public void Transfer_syntax_count_that_does_not_fit_closes(byte count)
    {
        byte[] bind = StandardBind();
        bind[28 + 88 + 2] = count; // third element's n_transfer_syn
        Assert.Equal(RpcStatus.Close, ServerDriver.Drive(Server(), new ReadOnlySequence<byte>(bind)).Final);
    }

    [Fact]
    public void Fragmented_bind_closes()
    {
        byte[] bind = StandardBind();
        bind[3] = 0x11;
        Assert.Equal(RpcStatus.Close, ServerDriver.Drive(Server(), new ReadOnlySequence<byte>(bind)).Final);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(12)]
    [InlineData(13)]
    [InlineData(15)]
    [InlineData(17)]
    [InlineData(18)]
    [InlineData(19)]
    [InlineData(200)]
    public void Ptypes_a_server_does_not_accept_close(byte type)
    {
        byte[] pdu = WithHeader(type, 0x03, 2, new byte[16]);
        var session = Server();
        Assert.Equal(RpcStatus.Close, ServerDriver.Drive(session, new ReadOnlySequence<byte>(pdu)).Final);
    }

    [Fact]
    public void Random_corruption_of_recorded_conversations_never_throws_or_grows_without_bound()
    {
        var streams = RecordedVectors.All().Select(v => (v, VectorFacts.Concat(v.Connections[0].ClientToServer.Select(m => m.Bytes!)))).ToList();
        var random = new Random(20240611);
        int closes = 0, calls = 0, faults = 0;
        for (int iteration = 0; iteration < 3000; iteration++)
        {
            var (vector, original) = streams[random.Next(streams.Count)];
            byte[] data = Mutate(original, random);
            var session = new RpcServerSession(VectorFacts.ServerOptions(vector), 7, 1688);
            var sequence = iteration % 10 == 0 ? Sequences.OneBytePerSegment(data) : Sequences.Split(data, random.Next(data.Length + 1));
            var result = ServerDriver.Drive(session, sequence);
            Assert.True(result.Pdus.Sum(p => p.Length) <= (2 * data.Length) + 64, "output out of proportion to input");
            Assert.True(result.Final != RpcStatus.Close || result.CloseReason is not null);
            closes += result.Final == RpcStatus.Close ? 1 : 0;
            calls += result.Calls.Count;
            faults += result.Pdus.Count(p => p[2] == 3);
        }

        // The mutations reach all three outcomes.
        Assert.True(closes > 0 && calls > 0 && faults > 0, $"closes {closes}, calls {calls}, faults {faults}");
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var data = original.ToList();
        int edits = random.Next(1, 5);
        for (int e = 0; e < edits && data.Count > 0; e++)
        {
            int at = random.Next(data.Count);
            switch (random.Next(4))
            {
                case 0:
                    data[at] = (byte)random.Next(256);
                    break;
                case 1:
                    data[at] ^= (byte)(1 << random.Next(8));
                    break;
                case 2:
                    data.RemoveRange(at, Math.Min(data.Count - at, random.Next(1, 20)));
                    break;
                default:
                    data.InsertRange(at, Enumerable.Range(0, random.Next(1, 8)).Select(_ => (byte)random.Next(256)));
                    break;
            }
        }

        return data.ToArray();
    }
}
