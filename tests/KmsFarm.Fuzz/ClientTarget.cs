using System.Buffers;
using KmsFarm.Protocol.Kms;
using KmsFarm.Protocol.Rpc;

namespace KmsFarm.Fuzz;

/// <summary>Target <c>client</c>: an <see cref="RpcClientSession"/> talking to a server whose byte stream is the input:
/// bind_ack, alter_context_resp and response PDUs (cut by <see cref="RpcFrameScanner"/>), each KMS response decoded by
/// <see cref="KmsClientCodec"/> against the state of the request the client sent. A <see cref="KmsProtocolException"/> or
/// a frame the scanner refuses is a clear rejection.</summary>
/// <remarks>Input: byte 0 = options (bit 0: the request is a V4 one of 252 bytes, else 260; bit 2: no NDR64 offer; bit 3:
/// no BTFN offer; bit 4: no CONC_MPX); then the KMS request payload the client sends (re-sent after every answer); then
/// the server's bytes.</remarks>
internal sealed class ClientTarget : IFuzzTarget
{
    private readonly ArrayBufferWriter<byte> _output = new(1024);

    public string Name => "client";

    public static RpcClientOptions OptionsFrom(byte bits) => new()
    {
        OfferNdr64 = (bits & 4) == 0,
        OfferBtfn = (bits & 8) == 0,
        Multiplex = (bits & 16) == 0,
    };

    public void Run(ReadOnlySpan<byte> input)
    {
        // Missing bytes count as zero, so even an empty input reaches the session (see IFuzzTarget).
        byte bits = input.IsEmpty ? (byte)0 : input[0];
        int requestLength = (bits & 1) != 0 ? KmsServerCodec.V4RequestLength : KmsServerCodec.EncryptedRequestLength;
        if (input.Length < 1 + requestLength)
        {
            var unused = new RpcClientSession(OptionsFrom(bits));
            _output.ResetWrittenCount();
            unused.WriteBind(_output);
            return;
        }

        var options = OptionsFrom(bits);
        var kmsRequest = input.Slice(1, requestLength);
        bool haveState = KmsServerCodec.DecodeRequest(kmsRequest, out var serverView) == KmsHResults.Success;
        var state = KmsRoundTrip.ClientStateOf(serverView);
        var buffer = new ReadOnlySequence<byte>(input[(1 + requestLength)..].ToArray());

        var session = new RpcClientSession(options);
        _output.ResetWrittenCount();
        session.WriteBind(_output);
        while (true)
        {
            var scan = RpcFrameScanner.TryReadFrame(ref buffer, options.MaxFragmentLength, out var frame, out _, out var error);
            if (scan != System.Buffers.OperationStatus.Done)
            {
                Check.That(scan == System.Buffers.OperationStatus.NeedMoreData || error is not null, "the scanner refused a frame without a reason");
                return;
            }

            ReadOnlySpan<byte> pdu = frame.IsSingleSegment ? frame.FirstSpan : frame.ToArray();
            var before = session.State;
            try
            {
                Step(session, pdu, kmsRequest, haveState, state);
            }
            catch (KmsProtocolException)
            {
                // A fault in reply to a request leaves the session bound; everything else fails it.
                Check.That(session.State == RpcClientState.Failed
                    || (before == RpcClientState.AwaitingResponse && session.State == RpcClientState.Bound),
                    $"a refusal left the session {session.State}");
                Outcomes.Count("client refused a reply");
                if (session.State == RpcClientState.Failed)
                {
                    return;
                }
            }

            if (session.State == RpcClientState.Bound)
            {
                _output.ResetWrittenCount();
                session.WriteRequest(kmsRequest, _output);
            }
        }
    }

    private void Step(RpcClientSession session, ReadOnlySpan<byte> pdu, ReadOnlySpan<byte> kmsRequest, bool haveState, in KmsClientState state)
    {
        switch (session.State)
        {
            case RpcClientState.AwaitingBindAck:
                _output.ResetWrittenCount();
                var next = session.HandleBindReply(pdu, _output);
                Check.That(next is RpcClientState.Bound or RpcClientState.AwaitingAlterContextResponse, $"bind_ack led to {next}");
                Check.That((next == RpcClientState.AwaitingAlterContextResponse) == (_output.WrittenCount > 0), "alter_context written out of turn");
                Outcomes.Count("client accepted a bind_ack");
                break;
            case RpcClientState.AwaitingAlterContextResponse:
                session.HandleAlterContextReply(pdu);
                Outcomes.Count("client accepted an alter_context_resp");
                break;
            case RpcClientState.AwaitingResponse:
                var response = session.ReadResponse(pdu);
                Check.That(response.IsSuccess || response.KmsResponse.IsEmpty, "a response with both data and an HRESULT");
                if (!response.IsSuccess)
                {
                    Outcomes.Count("client read an HRESULT");
                    break;
                }

                Outcomes.Count("client read a KMS response");
                if (haveState)
                {
                    var kms = KmsClientCodec.DecodeResponse(response.KmsResponse.Span, state);
                    Check.That(kms.ClientMachineId == state.Request.ClientMachineId, "a response for another CMID was accepted");
                    Outcomes.Count("client accepted a KMS response");
                }

                break;
            default:
                throw new FuzzFailureException($"the client loop reached state {session.State} with {kmsRequest.Length} request bytes");
        }
    }
}
