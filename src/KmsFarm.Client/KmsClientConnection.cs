using System.Buffers;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using KmsFarm.Protocol.Kms;
using KmsFarm.Protocol.Rpc;

namespace KmsFarm.Client;

/// <summary>One TCP connection to a KMS host, bound like a Windows client binds (NDR32 + NDR64 + BTFN, then an
/// alter_context for NDR32 when the host takes only NDR64), carrying any number of activation requests: the first over
/// NDR32, later ones over NDR64 when it was negotiated. One request at a time.</summary>
/// <remarks>Every reply is read by its frag_length into a buffer bounded by <see cref="KmsClientOptions.MaxFragmentLength"/>
/// and checked strictly by <see cref="RpcClientSession"/> and <see cref="KmsClientCodec"/>. Any violation throws
/// <see cref="KmsProtocolException"/>; a reply timeout throws <see cref="TimeoutException"/>; a lost connection throws
/// <see cref="IOException"/>. After any of these the connection is unusable.</remarks>
public sealed partial class KmsClientConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly KmsClientOptions _options;
    private readonly RpcClientSession _session;
    private readonly ArrayBufferWriter<byte> _output = new(512);
    private readonly byte[] _input;
    private readonly byte[] _kmsRequest = new byte[KmsClientCodec.MaxRequestLength];
    private string? _failure;
    private int _busy;
    private int _disposed;

    private KmsClientConnection(Socket socket, string host, int port, KmsClientOptions options)
    {
        _socket = socket;
        _options = options;
        Host = host;
        Port = port;
        RemoteEndPoint = socket.RemoteEndPoint!;
        _input = new byte[options.MaxFragmentLength];
        _session = new RpcClientSession(new RpcClientOptions
        {
            OfferNdr64 = options.OfferNdr64,
            OfferBtfn = options.OfferBtfn,
            Multiplex = options.Multiplex,
            MaxFragmentLength = (ushort)options.MaxFragmentLength,
        });
    }

    public string Host { get; }

    public int Port { get; }

    public EndPoint RemoteEndPoint { get; }

    /// <summary>Whether the host accepted NDR64 (requests after the first use it).</summary>
    public bool Ndr64Negotiated => _session.Ndr64Negotiated;

    /// <summary>Whether an alter_context was needed to get NDR32 (a Windows 8+ host refuses NDR32 in the bind).</summary>
    public bool UsedAlterContext => !_session.Ndr32AcceptedInBind;

    /// <summary>Feature bits the host granted by bind-time feature negotiation, or null.</summary>
    public ushort? BtfnFeatures => _session.BtfnFeatures;

    /// <summary>Requests answered so far on this connection.</summary>
    public int RequestCount { get; private set; }

    /// <summary>False after a protocol error, timeout, lost connection or disposal.</summary>
    public bool IsUsable => _failure is null && Volatile.Read(ref _disposed) == 0;

    private string Peer => new HostEndpoint(Host, Port).ToString();

    /// <summary>Opens a TCP connection (IPv4 or IPv6; a name is resolved and its addresses tried in turn within the
    /// connect timeout) and performs the RPC bind, plus the alter_context when the host asks for it.</summary>
    /// <exception cref="KmsConnectException">The TCP connection could not be opened.</exception>
    /// <exception cref="KmsProtocolException">The host's bind reply breaks the protocol.</exception>
    /// <exception cref="TimeoutException">The host did not answer the bind in time.</exception>
    /// <exception cref="IOException">The host closed the connection during the bind.</exception>
    public static async Task<KmsClientConnection> ConnectAsync(string host, int port, KmsClientOptions? options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        options ??= KmsClientOptions.Default;
        if (options.MaxFragmentLength is < 512 or > ushort.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(options), "KmsClientOptions.MaxFragmentLength must be between 512 and 65535.");
        }

        var socket = await OpenSocketAsync(host, port, options.ConnectTimeout, options.LocalAddress, cancellationToken)
            .ConfigureAwait(false);
        var connection = new KmsClientConnection(socket, host, port, options);
        try
        {
            await connection.BindAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Sends <paramref name="request"/> as a <paramref name="version"/> message and waits for the answer.</summary>
    /// <returns>The verified response, or the HRESULT with which the host refused; an RPC fault nca_server_too_busy is
    /// returned as <see cref="KmsHResults.ServerTooBusy"/> (what Windows reports for it), the connection staying usable.</returns>
    /// <exception cref="KmsProtocolException">The host broke the RPC or KMS protocol (including an RPC fault and any
    /// failed check of the response: MAC/HMAC, IVs, echoes, sizes).</exception>
    /// <exception cref="TimeoutException">No answer within <see cref="KmsClientOptions.ReceiveTimeout"/>.</exception>
    /// <exception cref="IOException">The host closed or reset the connection.</exception>
    public async Task<KmsActivationResult> ActivateAsync(KmsProtocolVersion version, KmsRequest request, CancellationToken cancellationToken)
    {
        EnsureUsable();
        if (Interlocked.Exchange(ref _busy, 1) != 0)
        {
            throw new InvalidOperationException("A KmsClientConnection carries one request at a time.");
        }

        long start = Stopwatch.GetTimestamp();
        try
        {
            int length = KmsClientCodec.EncodeRequest(version, request, _kmsRequest, out var state);
            _output.ResetWrittenCount();
            _session.WriteRequest(_kmsRequest.AsSpan(0, length), _output);
            var syntax = _session.LastRequestSyntax ?? RpcTransferSyntax.Ndr32;
            await SendAsync("request", cancellationToken).ConfigureAwait(false);
            int pduLength = await ReceivePduAsync("response", cancellationToken).ConfigureAwait(false);
            var rpc = _session.ReadResponse(_input.AsSpan(0, pduLength));
            var response = rpc.IsSuccess ? KmsClientCodec.DecodeResponse(rpc.KmsResponse.Span, state) : null;
            RequestCount++;
            return new KmsActivationResult(rpc.ReturnValue, response, syntax, Stopwatch.GetElapsedTime(start));
        }
        catch (KmsProtocolException ex) when (ex.FaultStatus == RpcFaultStatus.ServerTooBusy)
        {
            // The host refused the call for now (over its request rate); the association stays usable, as after a refusal.
            RequestCount++;
            return new KmsActivationResult(
                KmsHResults.ServerTooBusy, null, _session.LastRequestSyntax ?? RpcTransferSyntax.Ndr32, Stopwatch.GetElapsedTime(start));
        }
        catch (KmsProtocolException ex)
        {
            throw Failed(ex);
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _socket.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private async Task BindAsync(CancellationToken cancellationToken)
    {
        try
        {
            _output.ResetWrittenCount();
            _session.WriteBind(_output);
            await SendAsync("bind", cancellationToken).ConfigureAwait(false);
            int length = await ReceivePduAsync("bind_ack", cancellationToken).ConfigureAwait(false);
            _output.ResetWrittenCount();
            if (_session.HandleBindReply(_input.AsSpan(0, length), _output) == RpcClientState.AwaitingAlterContextResponse)
            {
                await SendAsync("alter_context", cancellationToken).ConfigureAwait(false);
                length = await ReceivePduAsync("alter_context_resp", cancellationToken).ConfigureAwait(false);
                _session.HandleAlterContextReply(_input.AsSpan(0, length));
            }
        }
        catch (KmsProtocolException ex)
        {
            throw Failed(ex);
        }
    }

    private void EnsureUsable()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        if (_failure is not null)
        {
            throw new InvalidOperationException($"The connection to {Peer} is unusable: {_failure}");
        }
    }

    /// <summary>Marks the connection unusable after a protocol violation and returns the exception to throw, naming the
    /// host.</summary>
    private KmsProtocolException Failed(KmsProtocolException ex)
    {
        Fail(ex.Message);
        return new KmsProtocolException($"{Peer}: {ex.Message}", ex);
    }

    private void Fail(string reason)
    {
        _failure ??= reason;
        _socket.Dispose();
    }
}
