using System.Net;
using System.Net.Sockets;
using KmsFarm.Node.Configuration;

namespace KmsFarm.Node.Hosting;

/// <summary>The node's listening sockets are exclusive: a second process (another node started with the same ports)
/// cannot bind them, and cannot share their connections. .NET's <see cref="SocketOptionName.ReuseAddress"/> also sets
/// SO_REUSEPORT on Linux, which lets two processes listen on one port and splits clients between them; so only
/// SO_REUSEADDR is set (what a quick restart over connections in TIME_WAIT needs), by its Linux value.</summary>
internal static class ListenSockets
{
    private const int SolSocket = 1;
    private const int SoReuseAddr = 2;

    /// <summary>A TCP socket bound to <paramref name="endPoint"/> (IPv6 ones IPv6-only), not listening yet. A bind that
    /// fails throws <see cref="NodeStartupException"/> naming the endpoint, the setting and the reason.</summary>
    public static Socket Bind(IPEndPoint endPoint, string setting)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (endPoint.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            if (OperatingSystem.IsLinux())
            {
                socket.SetRawSocketOption(SolSocket, SoReuseAddr, BitConverter.GetBytes(1));
            }
            else if (OperatingSystem.IsWindows())
            {
                socket.ExclusiveAddressUse = true;
            }

            socket.NoDelay = true;
            socket.Bind(endPoint);
            return socket;
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw new NodeStartupException($"{setting} {endPoint} cannot be listened on: {Reason(ex)}.", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Binds each listener in turn and lets it go again, so a port another process holds (or an address this
    /// machine does not have) stops start-up at once, before the database and the silo, with the setting named.</summary>
    public static void Probe(IEnumerable<NodeListener> listeners)
    {
        foreach (var listener in listeners.Where(l => l.EndPoint.Port != 0))
        {
            using var socket = Bind(listener.EndPoint, listener.Setting);
        }
    }

    private static string Reason(SocketException ex) => ex.SocketErrorCode switch
    {
        SocketError.AddressAlreadyInUse => "the port is already in use on this address (another node or program listens there; give this node other ports)",
        SocketError.AddressNotAvailable => "the address is not one of this machine's",
        SocketError.AccessDenied => "permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)",
        _ => ex.Message,
    };
}
