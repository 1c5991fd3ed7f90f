using System.Buffers;
using System.Buffers.Binary;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Protocol.Rpc;

/// <summary>The client side of one DCE/RPC connection to a KMS host: a pure state machine with no I/O, as a Windows
/// client (and vlmcs) drives it. Not thread-safe.</summary>
/// <remarks>
/// Typical use over a stream (read whole PDUs with <see cref="RpcFrameScanner"/> and
/// <see cref="RpcClientOptions.MaxFragmentLength"/> as the limit):
/// <code>
/// var rpc = new RpcClientSession(new RpcClientOptions());
/// rpc.WriteBind(output);                         // send; read one PDU
/// if (rpc.HandleBindReply(bindAck, output) == RpcClientState.AwaitingAlterContextResponse)
/// {
///     // HandleBindReply wrote an alter_context (NDR32) to output: send it, read one PDU
///     rpc.HandleAlterContextReply(alterContextResponse);
/// }
/// rpc.WriteRequest(kmsRequest, output);          // send; read one PDU
/// RpcClientResponse r = rpc.ReadResponse(pdu);   // r.KmsResponse or r.ReturnValue (HRESULT)
/// rpc.WriteRequest(next, output);                // more requests on the same connection (NDR64 when negotiated)
/// </code>
/// Every Handle/Read method validates the server's PDU strictly and throws <see cref="KmsProtocolException"/> with a
/// clear message when it breaks the protocol (the session is then <see cref="RpcClientState.Failed"/>); a fault PDU in
/// reply to a request throws an exception naming the fault status but leaves the session bound. Calling a method in
/// the wrong state throws <see cref="InvalidOperationException"/>.
/// </remarks>
public sealed partial class RpcClientSession
{
    /// <summary>call_id of the bind, the alter_context and the first request (later requests count up from it).</summary>
    public const uint BindCallId = 2;

    /// <summary>Feature bits requested by bind-time feature negotiation (security context multiplexing, keep on orphan).</summary>
    public const ushort RequestedBtfnFeatures = 0x0003;

    /// <summary>Presentation context id of NDR32 (always offered first).</summary>
    public const ushort Ndr32ContextId = 0;

    private const int ContextElementLength = 4 + (2 * RpcSyntaxIds.Length);

    private readonly ushort _ndr64ContextId;
    private readonly ushort _btfnContextId;
    private readonly int _offeredContexts;
    private uint _nextCallId = BindCallId;
    private int _requestCount;
    private uint _pendingCallId;
    private ushort _pendingContextId;
    private bool _pendingNdr64;

    /// <param name="options">What to offer; null for the defaults.</param>
    public RpcClientSession(RpcClientOptions? options = null)
    {
        Options = options ?? new RpcClientOptions();
        if (Options.MaxFragmentLength < RpcServerOptions.MinMaxFragmentLength)
        {
            throw new ArgumentOutOfRangeException(nameof(options), Options.MaxFragmentLength,
                "RpcClientOptions.MaxFragmentLength must be at least 512 bytes.");
        }

        ushort next = 1;
        _ndr64ContextId = Options.OfferNdr64 ? next++ : ushort.MaxValue;
        _btfnContextId = Options.OfferBtfn ? next++ : ushort.MaxValue;
        _offeredContexts = next;
    }

    /// <summary>The options this session offers.</summary>
    public RpcClientOptions Options { get; }

    /// <summary>Where the session stands; says which method to call next.</summary>
    public RpcClientState State { get; private set; }

    /// <summary>Whether the server accepted NDR64 (so requests after the first use it).</summary>
    public bool Ndr64Negotiated { get; private set; }

    /// <summary>Whether the server accepted NDR32 directly in the bind (false when it took an alter_context).</summary>
    public bool Ndr32AcceptedInBind { get; private set; }

    /// <summary>Feature bits granted by bind-time feature negotiation, or null when not negotiated.</summary>
    public ushort? BtfnFeatures { get; private set; }

    /// <summary>assoc_group_id from the bind_ack.</summary>
    public uint AssociationGroupId { get; private set; }

    /// <summary>The secondary address (the server's port as decimal text) from the bind_ack.</summary>
    public string? SecondaryAddress { get; private set; }

    /// <summary>max_xmit_frag from the bind_ack.</summary>
    public ushort ServerMaxTransmitFragment { get; private set; }

    /// <summary>max_recv_frag from the bind_ack: no request PDU may be larger.</summary>
    public ushort ServerMaxReceiveFragment { get; private set; }

    /// <summary>Transfer syntax of the last request written (null before the first).</summary>
    public RpcTransferSyntax? LastRequestSyntax { get; private set; }

    /// <summary>call_id of the last request written (0 before the first).</summary>
    public uint LastCallId { get; private set; }

    /// <summary>Writes the bind: call_id 2, contexts 0 = KMS/NDR32, 1 = KMS/NDR64 (if offered), next = KMS/BTFN 0x0003 (if
    /// offered); flags FIRST|LAST (+ CONC_MPX). With the defaults this is the 160-byte bind of vlmcs.</summary>
    public void WriteBind(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        RequireState(RpcClientState.Initial);
        WriteBindLike(output, RpcPacketType.Bind, _offeredContexts);
        State = RpcClientState.AwaitingBindAck;
    }

    /// <summary>Writes a request PDU carrying <paramref name="kmsRequest"/>: the first request of the connection uses NDR32
    /// (context 0), later ones NDR64 (context 1) when it was negotiated, as Windows and vlmcs do. call_id is 2 for the
    /// first request and counts up.</summary>
    public void WriteRequest(ReadOnlySpan<byte> kmsRequest, IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        RequireState(RpcClientState.Bound);
        bool ndr64 = _requestCount > 0 && Ndr64Negotiated;
        int length = RpcStub.PduPrefixLength + RpcStub.RequestStubLength(ndr64, kmsRequest.Length);
        if (length > ServerMaxReceiveFragment)
        {
            throw new ArgumentException(
                $"The request PDU ({length} bytes) exceeds the server's max_recv_frag ({ServerMaxReceiveFragment}).", nameof(kmsRequest));
        }

        _pendingCallId = _nextCallId++;
        _pendingContextId = ndr64 ? _ndr64ContextId : Ndr32ContextId;
        _pendingNdr64 = ndr64;
        RpcStub.WriteRequest(output, _pendingCallId, _pendingContextId, ndr64, kmsRequest);
        _requestCount++;
        LastCallId = _pendingCallId;
        LastRequestSyntax = ndr64 ? RpcTransferSyntax.Ndr64 : RpcTransferSyntax.Ndr32;
        State = RpcClientState.AwaitingResponse;
    }

    /// <summary>bind (all offered contexts) or alter_context (NDR32 on context 0 only): header, max_xmit, max_recv,
    /// assoc_group_id 0, n_context_elem, elements of one transfer syntax each.</summary>
    private void WriteBindLike(IBufferWriter<byte> output, RpcPacketType type, int contexts)
    {
        int length = RpcHeader.Length + 12 + (contexts * ContextElementLength);
        Span<byte> pdu = output.GetSpan(length)[..length];
        pdu.Clear();
        var flags = RpcPacketFlags.FirstAndLast | (Options.Multiplex ? RpcPacketFlags.ConcurrentMultiplex : RpcPacketFlags.None);
        RpcHeader.Write(pdu, type, flags, length, BindCallId);
        BinaryPrimitives.WriteUInt16LittleEndian(pdu[16..], Options.MaxFragmentLength);
        BinaryPrimitives.WriteUInt16LittleEndian(pdu[18..], Options.MaxFragmentLength);
        pdu[24] = (byte)contexts;
        for (ushort id = 0; id < contexts; id++)
        {
            Span<byte> element = pdu.Slice(RpcHeader.Length + 12 + (id * ContextElementLength), ContextElementLength);
            BinaryPrimitives.WriteUInt16LittleEndian(element, id);
            element[2] = 1;
            RpcSyntaxIds.KmsInterface.CopyTo(element[4..]);
            Span<byte> transfer = element[(4 + RpcSyntaxIds.Length)..];
            if (id == _ndr64ContextId)
            {
                RpcSyntaxIds.Ndr64.CopyTo(transfer);
            }
            else if (id == _btfnContextId)
            {
                RpcSyntaxIds.WriteBtfn(transfer, RequestedBtfnFeatures);
            }
            else
            {
                RpcSyntaxIds.Ndr32.CopyTo(transfer);
            }
        }

        output.Advance(length);
    }

    private void RequireState(RpcClientState expected)
    {
        if (State != expected)
        {
            throw new InvalidOperationException($"The RPC client session is {State}, not {expected}.");
        }
    }

    /// <summary>Marks the session failed and returns the exception to throw.</summary>
    private KmsProtocolException Fail(string message)
    {
        State = RpcClientState.Failed;
        return new KmsProtocolException(message);
    }
}
