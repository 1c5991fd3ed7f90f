using System.Buffers;
using System.Buffers.Binary;
using KmsFarm.Protocol.Kms;
using KmsFarm.Protocol.Rpc;

namespace KmsFarm.Fuzz;

/// <summary>Target <c>server</c>: an <see cref="RpcServerSession"/> fed an arbitrary client byte stream (framing,
/// bind/alter_context, request reassembly), every call decoded by <see cref="KmsServerCodec.DecodeRequest"/> and
/// answered as the node does. The stream is processed twice: arriving whole, and in chunks chosen by the input; both
/// must give the same replies, calls and end state.</summary>
/// <remarks>Input: byte 0 = options (bit 0: NDR64 off, bit 1: BTFN off, bits 2-3: MaxFragmentLength 5840/512/65535/1432,
/// bits 4-5: MaxRequestStubLength 1024/64/65536/300); byte 1 = chunking (see <see cref="Segments"/>); the rest = the
/// bytes the client sends.</remarks>
internal sealed class ServerSessionTarget : IFuzzTarget
{
    private const uint AssociationGroup = 0x1234ABCD;
    private const ushort LocalPort = 1688;
    private static readonly int[] FragmentLimits = [RpcServerOptions.DefaultMaxFragmentLength, 512, 65535, 1432];
    private static readonly int[] StubLimits = [RpcServerOptions.DefaultMaxRequestStubLength, 64, 65536, 300];

    private readonly ArrayBufferWriter<byte> _wholeOutput = new(4096);
    private readonly ArrayBufferWriter<byte> _chunkedOutput = new(4096);
    private readonly byte[] _response = new byte[KmsServerCodec.MaxResponseLength];

    public string Name => "server";

    public static RpcServerOptions OptionsFrom(byte bits) => new()
    {
        Ndr64Enabled = (bits & 1) == 0,
        BtfnEnabled = (bits & 2) == 0,
        MaxFragmentLength = FragmentLimits[(bits >> 2) & 3],
        MaxRequestStubLength = StubLimits[(bits >> 4) & 3],
    };

    public void Run(ReadOnlySpan<byte> input)
    {
        // Missing option bytes count as zero, so even an empty input reaches the session (see IFuzzTarget).
        var options = OptionsFrom(input.IsEmpty ? (byte)0 : input[0]);
        byte chunking = input.Length < 2 ? (byte)0 : input[1];
        ReadOnlyMemory<byte> stream = input[Math.Min(input.Length, 2)..].ToArray();
        _wholeOutput.ResetWrittenCount();
        _chunkedOutput.ResetWrittenCount();

        var whole = Drive(options, new Segments(stream, 0), _wholeOutput);
        var chunked = Drive(options, new Segments(stream, chunking), _chunkedOutput);

        Check.That(whole == chunked, $"chunked arrival changed the outcome: whole {whole}, chunked {chunked}");
        Check.That(_wholeOutput.WrittenSpan.SequenceEqual(_chunkedOutput.WrittenSpan), "chunked arrival changed the replies");
        CheckReplies(_wholeOutput.WrittenSpan, stream.Length);
    }

    /// <summary>The read loop of the node: Process until it needs more data (then the next chunk arrives) or closes.</summary>
    private DriveOutcome Drive(RpcServerOptions options, Segments segments, ArrayBufferWriter<byte> output)
    {
        var session = new RpcServerSession(options, AssociationGroup, LocalPort);
        if (segments.Count == 0)
        {
            var empty = ReadOnlySequence<byte>.Empty;
            Check.That(session.Process(ref empty, output, out _) == RpcStatus.NeedMoreData, "no input but not NeedMoreData");
            return new DriveOutcome(RpcStatus.NeedMoreData, null, 0, 0);
        }

        SequencePosition? start = null;
        int calls = 0;
        long consumedTotal = 0;
        for (int chunk = 0; chunk < segments.Count; chunk++)
        {
            var buffer = segments.Readable(start, chunk);
            while (true)
            {
                long before = buffer.Length;
                int written = output.WrittenCount;
                var status = session.Process(ref buffer, output, out var call);
                long consumed = before - buffer.Length;
                consumedTotal += consumed;
                start = buffer.Start;
                switch (status)
                {
                    case RpcStatus.NeedMoreData:
                        Check.That(consumed == 0 && output.WrittenCount == written, "NeedMoreData consumed or wrote bytes");
                        break;
                    case RpcStatus.Consumed:
                        Check.That(consumed >= RpcHeader.Length, $"Consumed took {consumed} bytes");
                        Outcomes.Count("server consumed a PDU");
                        continue;
                    case RpcStatus.Call:
                        Check.That(consumed >= RpcHeader.Length, $"Call took {consumed} bytes");
                        Check.That(call.Payload.Length <= options.MaxRequestStubLength, "call payload above the stub limit");
                        Answer(session, call, output);
                        calls++;
                        continue;
                    case RpcStatus.Close:
                        Check.That(session.CloseReason is not null, "Close without a reason");
                        var again = buffer;
                        Check.That(session.Process(ref again, output, out _) == RpcStatus.Close && again.Length == buffer.Length,
                            "a closed session processed more input");
                        Outcomes.Count("server closed");
                        return new DriveOutcome(status, session.CloseReason, consumedTotal, calls);
                    default:
                        throw new FuzzFailureException($"unknown status {status}");
                }

                break;
            }
        }

        return new DriveOutcome(RpcStatus.NeedMoreData, null, consumedTotal, calls);
    }

    /// <summary>As the node answers: decode, then a response or the HRESULT in a failure stub.</summary>
    private void Answer(RpcServerSession session, in RpcCall call, IBufferWriter<byte> output)
    {
        uint hresult = KmsServerCodec.DecodeRequest(call.Payload.Span, out var request);
        if (hresult != KmsHResults.Success)
        {
            Check.That(hresult == KmsHResults.InvalidData, $"DecodeRequest returned 0x{hresult:X8}");
            session.WriteFailure(call, hresult, output);
            Outcomes.Count("server answered a call with an HRESULT");
            return;
        }

        int written = KmsServerCodec.EncodeResponse(request, KmsRoundTrip.DefaultFields, KmsRoundTrip.Salt, KmsRoundTrip.PlainIv, _response);
        session.WriteResponse(call, _response.AsSpan(0, written), output);
        Outcomes.Count("server answered a call with a KMS response");
    }

    /// <summary>Every reply is a whole, valid PDU of a type a server sends, and the replies are in proportion to the input.</summary>
    private static void CheckReplies(ReadOnlySpan<byte> written, int inputLength)
    {
        Check.That(written.Length <= (2 * inputLength) + 64, $"{written.Length} bytes of replies to {inputLength} bytes of input");
        while (!written.IsEmpty)
        {
            Check.That(written.Length >= RpcHeader.Length, "a truncated reply");
            Check.That(RpcHeader.Validate(written, ushort.MaxValue) is null, "a reply with an invalid header");
            int length = BinaryPrimitives.ReadUInt16LittleEndian(written[8..]);
            Check.That(length <= written.Length, "a reply's frag_length runs past the output");
            var type = (RpcPacketType)written[2];
            Check.That(type is RpcPacketType.BindAck or RpcPacketType.AlterContextResponse or RpcPacketType.Response or RpcPacketType.Fault,
                $"the server sent PTYPE {(byte)type}");
            written = written[length..];
        }
    }

    private readonly record struct DriveOutcome(RpcStatus Final, string? CloseReason, long Consumed, int Calls);
}
