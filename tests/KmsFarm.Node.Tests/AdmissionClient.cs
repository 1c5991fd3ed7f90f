using System.Net;
using System.Net.Sockets;
using KmsFarm.Client;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Node.Tests;

/// <summary>Clients from chosen loopback addresses (127.0.0.2, 127.0.0.3, … are all loopback on Linux, each its own
/// source to the node's admission control): whole activations through the client library, and raw sockets that connect
/// and do nothing or dribble bytes.</summary>
internal static class AdmissionClient
{
    public static readonly ClientProduct Windows = ClientCatalog.Default.FindByName("Windows 10 Professional")!;

    public static KmsClientOptions Options(string localAddress, double timeoutSeconds = 10) => new()
    {
        LocalAddress = IPAddress.Parse(localAddress),
        ConnectTimeout = TimeSpan.FromSeconds(timeoutSeconds),
        ReceiveTimeout = TimeSpan.FromSeconds(timeoutSeconds),
    };

    /// <summary>Connects from <paramref name="localAddress"/> and completes the RPC bind.</summary>
    public static Task<KmsClientConnection> ConnectAsync(
        IPEndPoint node, string localAddress, CancellationToken cancellationToken, double timeoutSeconds = 10) =>
        KmsClientConnection.ConnectAsync(node.Address.ToString(), node.Port, Options(localAddress, timeoutSeconds), cancellationToken);

    /// <summary>One Windows activation (a new machine) on <paramref name="connection"/>.</summary>
    public static Task<KmsActivationResult> ActivateAsync(KmsClientConnection connection, CancellationToken cancellationToken)
    {
        var cmid = Guid.NewGuid();
        var request = KmsRequestFactory.Create(Windows, cmid, "lab-" + cmid.ToString("N")[..8], KmsProtocolVersion.V6, DateTime.UtcNow);
        return connection.ActivateAsync(KmsProtocolVersion.V6, request, cancellationToken);
    }

    /// <summary>A new connection from <paramref name="localAddress"/>, one activation, closed: what a Windows client does.
    /// True when it was activated; false on a refusal or any failure to connect or be answered.</summary>
    public static async Task<bool> TryActivateOnceAsync(
        IPEndPoint node, string localAddress, CancellationToken cancellationToken, double timeoutSeconds = 10)
    {
        try
        {
            await using var connection = await ConnectAsync(node, localAddress, cancellationToken, timeoutSeconds);
            return (await ActivateAsync(connection, cancellationToken)).Succeeded;
        }
        catch (Exception ex) when (ex is IOException or SocketException or TimeoutException or KmsProtocolException)
        {
            return false;
        }
    }

    /// <summary>A TCP connection from <paramref name="localAddress"/> that sends nothing.</summary>
    public static async Task<Socket> OpenRawAsync(IPEndPoint node, string localAddress, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(IPAddress.Parse(localAddress), 0));
            await socket.ConnectAsync(node, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Waits until the peer closes <paramref name="socket"/> (or resets it); the bytes it sent first.</summary>
    public static async Task<int> ReadUntilClosedAsync(Socket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[512];
        int total = 0;
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cancellationToken)) > 0)
            {
                total += read;
            }
        }
        catch (SocketException)
        {
            // A reset is a close too.
        }

        return total;
    }
}
