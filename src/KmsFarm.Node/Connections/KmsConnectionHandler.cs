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

/// <summary>One KMS connection: access check and admission (the node's cap, then its source's limit) at accept, before any
/// byte is read; then the pipe read loop driving an <see cref="RpcServerSession"/> under the handshake, idle and lifetime
/// deadlines; each KMS call within its source's request rate is decoded, decided by the <see cref="ActivationService"/> and
/// answered on the same association. Registered once (a singleton) so association groups are per node; the limits live in
/// <see cref="ConnectionAdmission"/>.</summary>
public sealed partial class KmsConnectionHandler : ConnectionHandler
{
    private readonly NodeRuntime _runtime;
    private readonly IpAccessList _accessList;
    private readonly ConnectionAdmission _admission;
    private readonly KmsListenerOptions _options;
    private readonly KmsMetrics _metrics;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly TimeProvider _timeProvider;
    private readonly ILogger _logger;
    private readonly LogRateLimiter _decideFailureLog;
    private uint _associationGroup;

    public KmsConnectionHandler(
        NodeRuntime runtime,
        IpAccessList accessList,
        ConnectionAdmission admission,
        IOptions<KmsListenerOptions> options,
        KmsMetrics metrics,
        IHostApplicationLifetime lifetime,
        TimeProvider timeProvider,
        ILogger<KmsConnectionHandler> logger)
    {
        _runtime = runtime;
        _accessList = accessList;
        _admission = admission;
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
    public int ActiveConnections => _admission.ActiveConnections;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var remote = connection.RemoteEndPoint as IPEndPoint;
        if (remote is null || !_accessList.IsAllowed(remote.Address))
        {
            _admission.Refuse(remote?.Address ?? IPAddress.None, AdmissionRefusal.AccessDenied);
            _logger.ConnectionRefusedByAccessList(remote?.Address);
            return;
        }

        var ticket = _admission.TryAdmit(remote.Address, out var refusal);
        if (ticket is null)
        {
            if (refusal == AdmissionRefusal.PerSourceLimit)
            {
                _logger.ConnectionRefusedPerSourceLimit(remote, _options.MaxConnectionsPerSource);
            }
            else
            {
                _logger.ConnectionRefusedOverCapacity(remote, _options.MaxConnections);
            }

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
            await ServeAsync(connection, remote, ticket).ConfigureAwait(false);
        }
        finally
        {
            _admission.Release(ticket);
            _metrics.ConnectionStopped(counted, started);
        }
    }

    private async Task ServeAsync(ConnectionContext connection, IPEndPoint remote, AdmissionTicket ticket)
    {
        uint group = Interlocked.Increment(ref _associationGroup);
        ushort localPort = (ushort)((connection.LocalEndPoint as IPEndPoint)?.Port ?? 0);
        var session = new RpcServerSession(_runtime.RpcOptions, group, localPort);
        _logger.ConnectionAccepted(group);

        var closeRequested = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None;
        var deadlines = new ConnectionDeadlines(_options, _timeProvider.GetTimestamp(), _timeProvider.TimestampFrequency);
        using var timer = new CancellationTokenSource(deadlines.Arm(bound: false, _timeProvider.GetTimestamp()), _timeProvider);
        using var readCancel = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, _lifetime.ApplicationStopping, closeRequested);
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
                    state.CloseReason = timer.IsCancellationRequested
                        ? DeadlinePassed(deadlines.Passed(session.IsBound, _timeProvider.GetTimestamp()), ticket)
                        : "node stopping";
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

                        // A complete PDU arrived: the connection is not idle (and may have completed its bind). CancelAfter moves
                        // the timer (a no-op once it fired); TryReset would also drop the linked read token's registration, and
                        // the timer would then never end a read again.
                        long now = _timeProvider.GetTimestamp();
                        deadlines.Activity(now);
                        timer.CancelAfter(deadlines.Arm(session.IsBound, now));

                        if (status == RpcStatus.Call)
                        {
                            state.Requests++;
                            if (!_admission.TryTakeRequest(ticket))
                            {
                                // Over the source's rate: refused at once, before any decoding or store work.
                                session.WriteFault(call, RpcFaultStatus.ServerTooBusy, output);
                            }
                            else if (!await AnswerAsync(session, call, output, clientAddress, connection.ConnectionClosed)
                                .ConfigureAwait(false))
                            {
                                state.CloseReason = connection.ConnectionClosed.IsCancellationRequested
                                    ? "client closed before the answer"
                                    : "request not decided";
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

    /// <summary>The timer fired: the close reason, counting the handshake timeout and the lifetime as refusals.</summary>
    private string DeadlinePassed(ConnectionDeadlines.Deadline deadline, AdmissionTicket ticket)
    {
        switch (deadline)
        {
            case ConnectionDeadlines.Deadline.Handshake:
                _admission.Refuse(ticket.Source, AdmissionRefusal.HandshakeTimeout);
                return "no bind within the handshake timeout";
            case ConnectionDeadlines.Deadline.Lifetime:
                _admission.Refuse(ticket.Source, AdmissionRefusal.Lifetime);
                return "connection lifetime reached";
            default:
                _logger.ConnectionIdleTimeout(_options.IdleTimeout);
                return "idle timeout";
        }
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
