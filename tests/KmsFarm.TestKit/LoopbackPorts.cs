using System.Net;
using System.Net.Sockets;

namespace KmsFarm.TestKit;

/// <summary>Ports for servers a test starts as separate processes (in-process nodes bind port 0 instead).</summary>
public static class LoopbackPorts
{
    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago; the caller retries if another process takes it first.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
