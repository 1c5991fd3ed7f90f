using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Security.Cryptography;
using KmsFarm.Activation;
using KmsFarm.Node.Access;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Node.Runtime;
using KmsFarm.Protocol.Rpc;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Connections;

/// <summary>One KMS connection: access check and connection cap at accept (before any byte is read), then the pipe read
/// loop driving an <see cref="RpcServerSession"/>; each KMS call is decoded, decided by the <see cref="ActivationService"/>
/// and answered on the same association. Registered once (a singleton) so the cap and association groups are per node.</summary>
public sealed partial class KmsConnectionHandler : ConnectionHandler
{
    private readonly NodeRuntime _runtime;
    private readonly IpAccessList _accessList;
    private readonly KmsListenerOptions _options;
    private readonly KmsMetrics _metrics;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly LogRateLimiter _decideFailureLog;
    private int _activeConnections;
    private uint _associationGroup;

    public KmsConnectionHandler(
        NodeRuntime runtime,
        IpAccessList accessList,
        IOptions<KmsListenerOptions> options,
        KmsMetrics metrics,
        IHostApplicationLifetime lifetime,
        TimeProvider timeProvider,
        ILogger<KmsConnectionHandler> logger)
    {
        _runtime = runtime;
        _accessList = accessList;
        _options = options.Value;
        _metrics = metrics;
        _lifetime = lifetime;
        _timeProvider = timeProvider;
        _logger = logger;
        _decideFailureLog = new LogRateLimiter(timeProvider: timeProvider);

        // A random start per process, one step per connection, as a Windows host does (never a constant).
        _associationGroup = BitConverter.ToUInt32(RandomNumberGenerator.GetBytes(sizeof(uint)));
    }

    /// <summary>Connections currently served (not counting refused ones).</summary>
    public int ActiveConnections => Volatile.Read(ref _activeConnections);

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var remote = connection.RemoteEndPoint as IPEndPoint;
        if (remote is null || !_accessList.IsAllowed(remote.Address))
        {
            _metrics.ConnectionRejected("access_denied");
            _logger.ConnectionRefusedByAccessList(remote?.Address);
            return;
        }

        if (Interlocked.Increment(ref _activeConnections) > _options.MaxConnections)
        {
            Interlocked.Decrement(ref _activeConnections);
            _metrics.ConnectionRejected("connection_limit");
            _logger.ConnectionRefusedOverCapacity(remote, _options.MaxConnections);
            return;
        }

        long started = Stopwatch.GetTimestamp();
        bool counted = _metrics.ConnectionStarted();
        try
        {
            if (!_runtime.IsServing || _lifetime.ApplicationStopping.IsCancellationRequested)
            {
                return;
            }

            using var scope = _logger.BeginConnectionScope(connection.ConnectionId, remote);
            await ServeAsync(connection, remote).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _activeConnections);
            _metrics.ConnectionStopped(counted, started);
        }
    }

    private async Task ServeAsync(ConnectionContext connection, IPEndPoint remote)
    {
        uint group = Interlocked.Increment(ref _associationGroup);
        ushort localPort = (ushort)((connection.LocalEndPoint as IPEndPoint)?.Port ?? 0);
        var session = new RpcServerSession(_runtime.RpcOptions, group, localPort);
        _logger.ConnectionAccepted(group);

        var closeRequested = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        using var idle = new CancellationTokenSource(_options.IdleTimeout, _timeProvider);
        using var readCancel = CancellationTokenSource.CreateLinkedTokenSource(idle.Token, _lifetime.ApplicationStopping, closeRequested);
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        string clientAddress = (remote.Address.IsIPv4MappedToIPv6 ? remote.Address.MapToIPv4() : remote.Address).ToString();
        var state = new ConnectionState();

        try
        {
            while (state.CloseReason is null)
            {
                ReadResult result;
                try
                {
                    result = await input.ReadAsync(readCancel.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    if (idle.IsCancellationRequested)
                    {
                        _logger.ConnectionIdleTimeout(_options.IdleTimeout);
                        state.CloseReason = "idle timeout";
                    }
                    else
                    {
                        state.CloseReason = "node stopping";
                    }

                    break;
                }

                var buffer = result.Buffer;
                try
                {
                    while (state.CloseReason is null)
                    {
                        var status = session.Process(ref buffer, output, out var call);
                        if (status == RpcStatus.NeedMoreData)
                        {
                            break;
                        }

                        // A complete PDU arrived: the connection is not idle.
                        if (idle.TryReset())
                        {
                            idle.CancelAfter(_options.IdleTimeout);
                        }

                        if (status == RpcStatus.Call)
                        {
                            state.Requests++;
                            if (!await AnswerAsync(session, call, output, clientAddress, connection.ConnectionClosed).ConfigureAwait(false))
                            {
                                state.CloseReason = connection.ConnectionClosed.IsCancellationRequested ? "client closed before the answer" : "request not decided";
                            }
                        }

                        await output.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                        if (status == RpcStatus.Close)
                        {
                            state.CloseReason = session.CloseReason ?? "protocol error";
                            ProtocolError(state.CloseReason);
                        }
                        else if (_lifetime.ApplicationStopping.IsCancellationRequested || closeRequested.IsCancellationRequested)
                        {
                            // Graceful shutdown: the request in flight was answered; exit between requests.
                            state.CloseReason = "node stopping";
                        }
                    }

                    if (state.CloseReason is null && result.IsCompleted)
                    {
                        if (!buffer.IsEmpty)
                        {
                            state.CloseReason = "truncated PDU";
                            ProtocolError(state.CloseReason);
                        }
                        else
                        {
                            state.CloseReason = "peer closed";
                        }
                    }
                }
                finally
                {
                    input.AdvanceTo(buffer.Start, buffer.End);
                }
            }
        }
        catch (Exception ex) when (ex is ConnectionResetException or ConnectionAbortedException or IOException or OperationCanceledException)
        {
            state.CloseReason = "connection lost: " + ex.GetType().Name;
        }
        catch (Exception ex)
        {
            // Never let one connection take the node down; the peer is dropped, the node keeps serving.
            _logger.RpcUnexpectedError(ex);
            state.CloseReason = "internal error";
            _metrics.ProtocolError("internal");
        }

        _logger.ConnectionClosed(state.Requests, state.CloseReason ?? "closed");
    }

    private void ProtocolError(string reason)
    {
        _metrics.ProtocolError(ErrorType(reason));
        _logger.RpcProtocolError(reason);
    }

    /// <summary>Bounded error.type tag: the leading words of the session's close reason are not bounded, so map them.</summary>
    private static string ErrorType(string reason) =>
        reason.StartsWith("truncated", StringComparison.Ordinal) ? "truncated"
        : reason.Contains("frag", StringComparison.OrdinalIgnoreCase) ? "fragment"
        : reason.Contains("bind", StringComparison.OrdinalIgnoreCase) ? "bind"
        : reason.Contains("type", StringComparison.OrdinalIgnoreCase) ? "packet_type"
        : "malformed";

    private sealed class ConnectionState
    {
        public int Requests;
        public string? CloseReason;
    }
}
