using System.Buffers;
using System.Diagnostics;
using KmsFarm.Activation;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Protocol.Kms;
using KmsFarm.Protocol.Rpc;

namespace KmsFarm.Node.Connections;

/// <summary>Answering one KMS call.</summary>
public sealed partial class KmsConnectionHandler
{
    /// <summary>Decodes, decides and writes the answer to <paramref name="call"/>. Returns false when the store failed:
    /// the connection is then closed without an answer (a count is never invented).</summary>
    private async ValueTask<bool> AnswerAsync(
        RpcServerSession session, RpcCall call, IBufferWriter<byte> output, string clientAddress, CancellationToken cancellationToken)
    {
        long started = Stopwatch.GetTimestamp();
        uint hresult = KmsServerCodec.DecodeRequest(call.Payload.Span, out var request);
        var version = request.Version is KmsProtocolVersion.V4 or KmsProtocolVersion.V5 or KmsProtocolVersion.V6 ? request.Version : 0;
        string group = KmsMetrics.ProductGroupTag(request.Request.ApplicationId);
        string licenseStatus = KmsMetrics.LicenseStatusTag(hresult == KmsHResults.Success ? request.Request.LicenseStatus : null);
        if (hresult != KmsHResults.Success)
        {
            session.WriteFailure(call, hresult, output);
            _logger.RpcRequestRefused(hresult);
            _metrics.RequestCompleted(version, "rejected", group, licenseStatus, Stopwatch.GetElapsedTime(started).TotalSeconds);
            return true;
        }

        ActivationDecision decision;
        try
        {
            decision = await _runtime.Service.ActivateAsync(request.Version, request.Request, clientAddress, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client hung up (its connection closed) while the request waited for its product group; the attempt still
            // commits and is counted, but nobody is left to answer.
            _logger.ClientClosedBeforeAnswer();
            _metrics.RequestCompleted(version, "error", group, licenseStatus, Stopwatch.GetElapsedTime(started).TotalSeconds);
            return false;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            if (_decideFailureLog.TryAcquire(out long suppressed))
            {
                _logger.ActivationStoreFailed(ex, Describe(ex), suppressed);
            }

            _metrics.RequestCompleted(version, "error", group, licenseStatus, Stopwatch.GetElapsedTime(started).TotalSeconds);
            return false;
        }

        if (decision.IsSuccess)
        {
            WriteResponse(session, call, request, decision.Response, output);
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                _logger.RpcRequestAnswered(request.Version, request.Request.ClientMachineId, decision.Response.CurrentCount);
            }

            _metrics.RequestCompleted(version, "activated", group, licenseStatus, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
        else
        {
            session.WriteFailure(call, decision.HResult, output);
            _logger.RpcRequestRefused(decision.HResult);
            _metrics.RequestCompleted(version, "rejected", group, licenseStatus, Stopwatch.GetElapsedTime(started).TotalSeconds);
        }

        return true;
    }

    /// <summary>The exception's type and first line, short enough for a log line.</summary>
    private static string Describe(Exception ex)
    {
        string message = ex.Message.ReplaceLineEndings(" ");
        return ex.GetType().Name + ": " + (message.Length > 200 ? message[..200] + "…" : message);
    }

    private static void WriteResponse(
        RpcServerSession session, in RpcCall call, in KmsServerRequest request, in KmsResponseFields fields, IBufferWriter<byte> output)
    {
        Span<byte> response = stackalloc byte[KmsServerCodec.MaxResponseLength];
        int written = KmsServerCodec.EncodeResponse(request, fields, response);
        session.WriteResponse(call, response[..written], output);
    }
}
