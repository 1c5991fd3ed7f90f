using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using KmsFarm.Protocol.Kms;
using KmsFarm.Protocol.Rpc;

namespace KmsFarm.Client.Tests;

/// <summary>What the loopback test server does with a connection.</summary>
public enum TestServerMode
{
    /// <summary>A KMS host built from the real RpcServerSession and KmsServerCodec.</summary>
    Kms,

    /// <summary>Answers the first bytes it receives with bytes that are not DCE/RPC.</summary>
    Garbage,

    /// <summary>Closes every connection as soon as the client has sent something.</summary>
    CloseOnFirstPdu,

    /// <summary>Answers the bind normally, then closes instead of answering the first request.</summary>
    CloseAfterBind,

    /// <summary>A KMS host whose responses have one byte flipped in the encrypted KMS payload.</summary>
    CorruptResponse,

    /// <summary>A KMS host that closes each connection after its first answer (as a node does at its idle timeout or
    /// connection lifetime, between requests).</summary>
    CloseAfterAnswer,

    /// <summary>Answers every request with the RPC fault nca_server_too_busy (a node over the client's request rate).</summary>
    TooBusy,
}

/// <summary>A small KMS host on 127.0.0.1 for the client tests: it answers every request with a fixed ePID, count and
/// HwId (or refuses with <see cref="RefuseWith"/>) and records what it saw.</summary>
public sealed class TestKmsServer : IAsyncDisposable
{
    public const string Epid = "03612-00206-556-123727-03-1033-17763.0000-2972018";
    public const uint Count = 50;
    public static readonly HardwareId HwId = HardwareId.Parse("3A1C049600B60076");

    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _acceptLoop;
    private readonly RpcServerOptions _rpcOptions;
    private readonly ConcurrentBag<Task> _connections = [];

    public TestKmsServer(TestServerMode mode = TestServerMode.Kms, RpcServerOptions? rpcOptions = null, uint refuseWith = 0)
    {
        Mode = mode;
        RefuseWith = refuseWith;
        _rpcOptions = rpcOptions ?? new RpcServerOptions();
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        _acceptLoop = AcceptLoopAsync();
    }

    public TestServerMode Mode { get; }

    /// <summary>When non-zero, every well-formed request is refused with this HRESULT.</summary>
    public uint RefuseWith { get; }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string HostPort => $"127.0.0.1:{Port}";

    /// <summary>Every request call seen, in arrival order per connection.</summary>
    public ConcurrentQueue<(int Connection, bool IsNdr64, KmsProtocolVersion Version, Guid Cmid)> Calls { get; } = new();

    public int ConnectionCount => _connectionCount;

    private int _connectionCount;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _acceptLoop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        await Task.WhenAll(_connections.ToArray()).WaitAsync(TimeSpan.FromSeconds(10));
        _stop.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            int id = Interlocked.Increment(ref _connectionCount);
            _connections.Add(Task.Run(() => ServeAsync(socket, id)));
        }
    }

    private async Task ServeAsync(Socket socket, int id)
    {
        using var _ = socket;
        try
        {
            switch (Mode)
            {
                case TestServerMode.Garbage:
                    await socket.ReceiveAsync(new byte[512], _stop.Token);
                    await socket.SendAsync("HTTP/1.1 400 Bad Request\r\n\r\n"u8.ToArray(), _stop.Token);
                    await Task.Delay(200, _stop.Token);
                    return;
                case TestServerMode.CloseOnFirstPdu:
                    await socket.ReceiveAsync(new byte[512], _stop.Token);
                    return;
                default:
                    await ServeKmsAsync(socket, id);
                    return;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException)
        {
        }
    }

    private async Task ServeKmsAsync(Socket socket, int id)
    {
        var session = new RpcServerSession(_rpcOptions, 0x1000u + (uint)id, (ushort)Port);
        var output = new ArrayBufferWriter<byte>();
        var pending = new byte[16384];
        int filled = 0;
        var response = new byte[KmsServerCodec.MaxResponseLength];
        while (true)
        {
            int read = await socket.ReceiveAsync(pending.AsMemory(filled), _stop.Token);
            if (read == 0)
            {
                return;
            }

            filled += read;
            while (true)
            {
                var buffer = new ReadOnlySequence<byte>(pending, 0, filled);
                output.ResetWrittenCount();
                var status = session.Process(ref buffer, output, out var call);
                int consumed = filled - (int)buffer.Length;
                if (status == RpcStatus.Call)
                {
                    if (Mode == TestServerMode.CloseAfterBind)
                    {
                        return;
                    }

                    if (Mode == TestServerMode.TooBusy)
                    {
                        session.WriteFault(call, RpcFaultStatus.ServerTooBusy, output);
                    }
                    else
                    {
                        Answer(session, call, id, output, response);
                    }
                }

                if (output.WrittenCount > 0)
                {
                    await socket.SendAsync(output.WrittenMemory, _stop.Token);
                }

                if (status == RpcStatus.Call && Mode == TestServerMode.CloseAfterAnswer)
                {
                    return;
                }

                if (status == RpcStatus.Close)
                {
                    return;
                }

                Buffer.BlockCopy(pending, consumed, pending, 0, filled - consumed);
                filled -= consumed;
                if (status == RpcStatus.NeedMoreData || filled == 0)
                {
                    break;
                }
            }
        }
    }

    private void Answer(RpcServerSession session, in RpcCall call, int id, ArrayBufferWriter<byte> output, byte[] response)
    {
        uint hresult = KmsServerCodec.DecodeRequest(call.Payload.Span, out var request);
        if (hresult == KmsHResults.Success)
        {
            Calls.Enqueue((id, call.IsNdr64, request.Version, request.Request.ClientMachineId));
            hresult = RefuseWith;
        }

        if (hresult != KmsHResults.Success)
        {
            session.WriteFailure(call, hresult, output);
            return;
        }

        var fields = new KmsResponseFields(Epid, Count, 120, 10080, HwId);
        int length = KmsServerCodec.EncodeResponse(request, fields, response);
        if (Mode == TestServerMode.CorruptResponse)
        {
            response[length - 20] ^= 0x5A;
        }

        session.WriteResponse(call, response.AsSpan(0, length), output);
    }
}
