using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client;

public sealed partial class KmsClientConnection
{
    private const int HeaderLength = 16;

    private static async Task<Socket> OpenSocketAsync(
        string host, int port, TimeSpan timeout, IPAddress? localAddress, CancellationToken cancellationToken)
    {
        string peer = new HostEndpoint(host, port).ToString();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        IPAddress[] addresses;
        try
        {
            addresses = IPAddress.TryParse(host, out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new KmsConnectException($"Could not resolve '{host}' within {timeout.TotalSeconds:0.###} s.") { IsTimeout = true };
        }
        catch (SocketException ex)
        {
            throw new KmsConnectException($"Could not resolve '{host}': {ex.Message}", ex);
        }

        if (localAddress is not null)
        {
            addresses = Array.FindAll(addresses, a => a.AddressFamily == localAddress.AddressFamily);
        }

        if (addresses.Length == 0)
        {
            throw new KmsConnectException(
                localAddress is null ? $"'{host}' has no addresses." : $"'{host}' has no address of the family of {localAddress}.");
        }

        SocketException? last = null;
        foreach (var address in addresses)
        {
            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                if (localAddress is not null)
                {
                    socket.Bind(new IPEndPoint(localAddress, 0));
                }

                await socket.ConnectAsync(new IPEndPoint(address, port), deadline.Token).ConfigureAwait(false);
                return socket;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                socket.Dispose();
                throw new KmsConnectException($"Could not connect to {peer} within {timeout.TotalSeconds:0.###} s.") { IsTimeout = true };
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                last = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        throw new KmsConnectException($"Could not connect to {peer}: {last!.Message}", last);
    }

    private async Task SendAsync(string what, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.ReceiveTimeout);
        try
        {
            await _socket.SendAsync(_output.WrittenMemory, SocketFlags.None, deadline.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            throw TransportFailure(ex, $"sending the {what}", cancellationToken);
        }
    }

    /// <summary>Reads one whole PDU into <see cref="_input"/> by its frag_length and returns its length. Only the fixed
    /// header bytes needed to frame it are checked here; the session checks the rest.</summary>
    private async Task<int> ReceivePduAsync(string what, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.ReceiveTimeout);
        try
        {
            await ReceiveExactlyAsync(0, HeaderLength, what, deadline.Token).ConfigureAwait(false);
            if (_input[0] != 5 || _input[1] != 0)
            {
                throw new KmsProtocolException($"the {what} is not a DCE/RPC 5.0 PDU (first bytes {_input[0]:X2} {_input[1]:X2})");
            }

            if (_input[4] != 0x10)
            {
                throw new KmsProtocolException($"the {what} uses data representation 0x{_input[4]:X2}; only little-endian ASCII (0x10) is supported");
            }

            int length = BinaryPrimitives.ReadUInt16LittleEndian(_input.AsSpan(8));
            if (length < HeaderLength || length > _input.Length)
            {
                throw new KmsProtocolException($"the {what} has frag_length {length}, outside {HeaderLength}..{_input.Length}");
            }

            await ReceiveExactlyAsync(HeaderLength, length - HeaderLength, what, deadline.Token).ConfigureAwait(false);
            return length;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
            throw TransportFailure(ex, $"waiting for the {what}", cancellationToken);
        }
    }

    private async Task ReceiveExactlyAsync(int offset, int count, string what, CancellationToken cancellationToken)
    {
        int end = offset + count;
        while (offset < end)
        {
            int read = await _socket.ReceiveAsync(_input.AsMemory(offset, end - offset), SocketFlags.None, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                Fail("closed by the host");
                throw new IOException($"The KMS host {Peer} closed the connection while the client was waiting for the {what} ({offset} bytes received).");
            }

            offset += read;
        }
    }

    /// <summary>Turns a socket-level failure into the exception the caller sees: the caller's own cancellation stays an
    /// <see cref="OperationCanceledException"/>, our timeout becomes a <see cref="TimeoutException"/>, the rest an
    /// <see cref="IOException"/>. The connection is unusable afterwards.</summary>
    private Exception TransportFailure(Exception ex, string doing, CancellationToken cancellationToken)
    {
        if (ex is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            Fail("cancelled");
            return ex;
        }

        if (ex is OperationCanceledException)
        {
            Fail("timed out");
            return new TimeoutException($"The KMS host {Peer} did not answer within {_options.ReceiveTimeout.TotalSeconds:0.###} s while {doing}.");
        }

        Fail(ex.Message);
        return new IOException($"The connection to the KMS host {Peer} failed while {doing}: {ex.Message}", ex);
    }
}
