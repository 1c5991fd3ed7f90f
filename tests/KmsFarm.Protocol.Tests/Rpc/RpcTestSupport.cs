using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using KmsFarm.Protocol.Rpc;
using KmsFarm.TestKit;

namespace KmsFarm.Protocol.Tests.Rpc;

/// <summary>A call the server surfaced, with its payload copied (the session reuses its buffer).</summary>
internal sealed record SurfacedCall(RpcCall Call, byte[] Payload);

/// <summary>Everything a server session did with one input.</summary>
internal sealed record DriveResult(List<byte[]> Pdus, List<SurfacedCall> Calls, RpcStatus Final, long Unconsumed, string? CloseReason);

/// <summary>Feeds bytes into an <see cref="RpcServerSession"/> the way the host's read loop does.</summary>
internal static class ServerDriver
{
    /// <summary>Answers a call; the default echoes the payload reversed with return value 0.</summary>
    public delegate void Answer(RpcServerSession session, RpcCall call, IBufferWriter<byte> output);

    public static void EchoReversed(RpcServerSession session, RpcCall call, IBufferWriter<byte> output)
    {
        byte[] reply = call.Payload.ToArray();
        Array.Reverse(reply);
        session.WriteResponse(call, reply, output);
    }

    /// <summary>Calls Process until it needs more data or closes; every PDU written is split out by its frag_length.</summary>
    public static DriveResult Drive(RpcServerSession session, ReadOnlySequence<byte> input, Answer? answer = null)
    {
        answer ??= EchoReversed;
        var output = new ArrayBufferWriter<byte>();
        var calls = new List<SurfacedCall>();
        RpcStatus status;
        int guard = 0;
        while (true)
        {
            status = session.Process(ref input, output, out var call);
            Assert.True(++guard < 100_000, "Process does not make progress");
            if (status == RpcStatus.Call)
            {
                calls.Add(new SurfacedCall(call, call.Payload.ToArray()));
                answer(session, call, output);
            }

            if (status is RpcStatus.NeedMoreData or RpcStatus.Close)
            {
                break;
            }
        }

        return new DriveResult(SplitPdus(output.WrittenSpan), calls, status, input.Length, session.CloseReason);
    }

    public static List<byte[]> SplitPdus(ReadOnlySpan<byte> written)
    {
        var pdus = new List<byte[]>();
        while (!written.IsEmpty)
        {
            int length = BinaryPrimitives.ReadUInt16LittleEndian(written[8..]);
            Assert.InRange(length, 16, written.Length);
            pdus.Add(written[..length].ToArray());
            written = written[length..];
        }

        return pdus;
    }
}

/// <summary>How the recorded vectors were made, and their server PDUs with vlmcsd's stale bytes zeroed.</summary>
internal static class VectorFacts
{
    public static RpcServerOptions ServerOptions(RecordedVector vector)
    {
        string command = vector.Root.GetProperty("server_command").GetString()!;
        return new RpcServerOptions
        {
            Ndr64Enabled = !command.Contains("-N0", StringComparison.Ordinal),
            BtfnEnabled = !command.Contains("-B0", StringComparison.Ordinal),
        };
    }

    public static RpcClientOptions ClientOptions(RecordedVector vector)
    {
        string command = vector.Root.GetProperty("client_command").GetString()!;
        return new RpcClientOptions
        {
            OfferNdr64 = !command.Contains("-N0", StringComparison.Ordinal),
            OfferBtfn = !command.Contains("-B0", StringComparison.Ordinal),
            Multiplex = !command.Contains(" -p", StringComparison.Ordinal),
        };
    }

    public static ushort ServerPort(RecordedConnection connection) =>
        ushort.Parse(connection.Json.GetProperty("server").GetString()!.Split(':')[^1], CultureInfo.InvariantCulture);

    /// <summary>assoc_group_id of the first bind_ack, so our bind_ack can be compared byte for byte.</summary>
    public static uint AssociationGroup(IEnumerable<RecordedPdu> messages) =>
        messages.Where(m => !m.FromClient && m.Bytes is { Length: > 24 } b && b[2] == 12)
            .Select(m => BinaryPrimitives.ReadUInt32LittleEndian(m.Bytes.AsSpan(20)))
            .FirstOrDefault();

    /// <summary>A server PDU as we emit it: vlmcsd's stale padding after the secondary address and the uninitialised
    /// cancel_count/reserved of faults become zero.</summary>
    public static byte[] Normalize(byte[] pdu)
    {
        byte[] copy = (byte[])pdu.Clone();
        if (copy[2] is 12 or 15)
        {
            int end = 26 + BinaryPrimitives.ReadUInt16LittleEndian(copy.AsSpan(24));
            while (end % 4 != 0)
            {
                copy[end++] = 0;
            }
        }
        else if (copy[2] == 3)
        {
            copy[22] = 0;
            copy[23] = 0;
        }

        return copy;
    }

    /// <summary>Reads a recorded response PDU independently of the production code: (HRESULT, KMS bytes or null).</summary>
    public static (uint ReturnValue, byte[]? Data) ReadRecordedResponse(byte[] pdu, bool ndr64)
    {
        var stub = pdu.AsSpan(24);
        int width = ndr64 ? 8 : 4;
        long size = ndr64 ? (long)BinaryPrimitives.ReadUInt64LittleEndian(stub) : BinaryPrimitives.ReadUInt32LittleEndian(stub);
        long referent = ndr64 ? (long)BinaryPrimitives.ReadUInt64LittleEndian(stub[8..]) : BinaryPrimitives.ReadUInt32LittleEndian(stub[4..]);
        if (referent == 0)
        {
            return (BinaryPrimitives.ReadUInt32LittleEndian(stub[(2 * width)..]), null);
        }

        return (0, stub.Slice(3 * width, (int)size).ToArray());
    }

    public static bool IsNdr64Request(byte[] requestPdu, RecordedConnection connection)
    {
        ushort context = BinaryPrimitives.ReadUInt16LittleEndian(requestPdu.AsSpan(20));
        return connection.Json.GetProperty("context_syntax_map")
            .TryGetProperty(context.ToString(CultureInfo.InvariantCulture), out var name) && name.GetString() == "NDR64";
    }

    /// <summary>Answers the n-th call with the n-th recorded response of the connection.</summary>
    public static ServerDriver.Answer RecordedAnswers(RecordedConnection connection)
    {
        var responses = connection.ServerToClient.Where(m => m.Bytes is { } b && b[2] == 2).Select(m => m.Bytes!).ToList();
        int next = 0;
        return (session, call, output) =>
        {
            var (hresult, data) = ReadRecordedResponse(responses[next++], call.IsNdr64);
            if (data is null)
            {
                session.WriteFailure(call, hresult, output);
            }
            else
            {
                session.WriteResponse(call, data, output);
            }
        };
    }

    public static byte[] Concat(IEnumerable<byte[]> parts) => parts.SelectMany(p => p).ToArray();
}

/// <summary>Hand-built PDUs for edge cases.</summary>
internal static class Pdus
{
    public static readonly byte[] KmsInterface = Convert.FromHexString("7521c8514e845047b0d8ec255555bc0601000000");
    public static readonly byte[] Ndr32 = Convert.FromHexString("045d888aeb1cc9119fe808002b10486002000000");
    public static readonly byte[] Ndr64 = Convert.FromHexString("33057171babe37498319b5dbef9ccc3601000000");
    public static readonly byte[] OtherInterface = Convert.FromHexString("785734123412cdabef000123456789ab01000000");

    public static byte[] Btfn(ushort bits)
    {
        var syntax = new byte[20];
        Convert.FromHexString("2c1cb76c12984045").CopyTo(syntax, 0);
        syntax[8] = (byte)bits;
        syntax[9] = (byte)(bits >> 8);
        syntax[16] = 1;
        return syntax;
    }

    public sealed record Element(ushort Id, byte[] AbstractSyntax, params byte[][] TransferSyntaxes);

    public static byte[] Bind(uint callId, params Element[] elements) => BindLike(11, 0x13, callId, elements);

    public static byte[] AlterContext(uint callId, params Element[] elements) => BindLike(14, 0x13, callId, elements);

    public static byte[] BindLike(byte type, byte flags, uint callId, Element[] elements)
    {
        var body = new List<byte>();
        body.AddRange([0xd0, 0x16, 0xd0, 0x16, 0, 0, 0, 0, (byte)elements.Length, 0, 0, 0]);
        foreach (var e in elements)
        {
            body.AddRange([(byte)e.Id, (byte)(e.Id >> 8), (byte)e.TransferSyntaxes.Length, 0]);
            body.AddRange(e.AbstractSyntax);
            foreach (var t in e.TransferSyntaxes)
            {
                body.AddRange(t);
            }
        }

        return WithHeader(type, flags, callId, body.ToArray());
    }

    public static byte[] Request(uint callId, ushort context, bool ndr64, byte[] payload, ushort opnum = 0, byte flags = 0x03)
    {
        int width = ndr64 ? 8 : 4;
        var stub = new byte[(2 * width) + payload.Length];
        if (ndr64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(stub, (ulong)payload.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(stub.AsSpan(8), (ulong)payload.Length);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(stub, (uint)payload.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(stub.AsSpan(4), (uint)payload.Length);
        }

        payload.CopyTo(stub, 2 * width);
        return RequestWithStub(callId, context, stub, opnum, flags);
    }

    public static byte[] RequestWithStub(uint callId, ushort context, byte[] stub, ushort opnum = 0, byte flags = 0x03)
    {
        var body = new byte[8 + stub.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(body, (uint)stub.Length);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(4), context);
        BinaryPrimitives.WriteUInt16LittleEndian(body.AsSpan(6), opnum);
        stub.CopyTo(body, 8);
        return WithHeader(0, flags, callId, body);
    }

    public static byte[] WithHeader(byte type, byte flags, uint callId, byte[] body)
    {
        var pdu = new byte[16 + body.Length];
        pdu[0] = 5;
        pdu[2] = type;
        pdu[3] = flags;
        pdu[4] = 0x10;
        BinaryPrimitives.WriteUInt16LittleEndian(pdu.AsSpan(8), (ushort)pdu.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(pdu.AsSpan(12), callId);
        body.CopyTo(pdu, 16);
        return pdu;
    }

    /// <summary>The standard vlmcs bind: NDR32 (0), NDR64 (1), BTFN 0x0003 (2).</summary>
    public static byte[] StandardBind(uint callId = 2) => Bind(callId,
        new Element(0, KmsInterface, Ndr32), new Element(1, KmsInterface, Ndr64), new Element(2, KmsInterface, Btfn(3)));

    public static RpcServerSession Server(bool ndr64 = true, bool btfn = true, int maxStub = 1024, ushort port = 1688) =>
        new(new RpcServerOptions { Ndr64Enabled = ndr64, BtfnEnabled = btfn, MaxRequestStubLength = maxStub }, 0x12345678, port);

    /// <summary>Result entries of a bind_ack / alter_context_resp: (result, reason, transfer syntax bytes).</summary>
    public static List<(ushort Result, ushort Reason, byte[] Syntax)> Results(byte[] ack)
    {
        int offset = 26 + BinaryPrimitives.ReadUInt16LittleEndian(ack.AsSpan(24));
        offset += (4 - (offset % 4)) % 4;
        int count = ack[offset];
        var results = new List<(ushort, ushort, byte[])>();
        for (int i = 0; i < count; i++)
        {
            var entry = ack.AsSpan(offset + 4 + (24 * i), 24);
            results.Add((BinaryPrimitives.ReadUInt16LittleEndian(entry), BinaryPrimitives.ReadUInt16LittleEndian(entry[2..]), entry[4..].ToArray()));
        }

        Assert.Equal(ack.Length, offset + 4 + (24 * count));
        return results;
    }

    public static uint FaultStatus(byte[] fault)
    {
        Assert.Equal(3, fault[2]);
        Assert.Equal(32, fault.Length);
        return BinaryPrimitives.ReadUInt32LittleEndian(fault.AsSpan(24));
    }

    public static uint CallId(byte[] pdu) => BinaryPrimitives.ReadUInt32LittleEndian(pdu.AsSpan(12));
}
