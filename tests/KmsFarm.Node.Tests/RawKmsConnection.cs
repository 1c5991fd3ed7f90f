using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace KmsFarm.Node.Tests;

/// <summary>A TCP connection that speaks raw PDUs, for replaying recorded bytes and sending broken ones.</summary>
public sealed class RawKmsConnection : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    private RawKmsConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<RawKmsConnection> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var client = new TcpClient(endPoint.AddressFamily) { NoDelay = true };
        await client.ConnectAsync(endPoint, cancellationToken);
        return new RawKmsConnection(client);
    }

    public Socket Socket => _client.Client;

    public ValueTask SendAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken) => _stream.WriteAsync(bytes, cancellationToken);

    /// <summary>Reads one PDU (by frag_length); null when the server closed the connection before a full PDU.</summary>
    public async Task<byte[]?> ReceivePduAsync(CancellationToken cancellationToken)
    {
        var header = new byte[16];
        if (!await ReadExactlyOrEofAsync(header, cancellationToken))
        {
            return null;
        }

        int length = BinaryPrimitives.ReadUInt16LittleEndian(header.AsSpan(8));
        var pdu = new byte[length];
        header.CopyTo(pdu, 0);
        return await ReadExactlyOrEofAsync(pdu.AsMemory(16), cancellationToken) ? pdu : null;
    }

    /// <summary>True when the server closes the connection; fails if it sends anything instead.</summary>
    public async Task<int> ReadUntilClosedAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[512];
        int total = 0;
        try
        {
            int read;
            while ((read = await _stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                total += read;
            }
        }
        catch (IOException)
        {
            // A reset is a close too.
        }

        return total;
    }

    private async Task<bool> ReadExactlyOrEofAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        try
        {
            await _stream.ReadExactlyAsync(buffer, cancellationToken);
            return true;
        }
        catch (EndOfStreamException)
        {
            return false;
        }
        catch (IOException)
        {
            return false;
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
