using System.Net;
using System.Net.Sockets;

namespace KmsFarm.TestKit;

/// <summary>Ports for servers a test starts as separate processes, and for silo ports (in-process nodes bind port 0 for
/// KMS and HTTP instead).</summary>
public static class LoopbackPorts
{
    private static readonly object Gate = new();
    private static readonly HashSet<int> Given = [];
    private static readonly (int Low, int High) Range = ChooseRange();

    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago, never the same twice in this process. Chosen at random
    /// below the kernel's ephemeral range (<c>net.ipv4.ip_local_port_range</c>), so an outgoing connection of any test
    /// cannot take it between the choice and the server's bind; another process that picks ports itself still can, so the
    /// caller retries if its server fails to bind.</summary>
    public static int Free()
    {
        lock (Gate)
        {
            for (int attempt = 0; attempt < 200; attempt++)
            {
                int port = Random.Shared.Next(Range.Low, Range.High + 1);
                if (!Given.Contains(port) && CanBind(port))
                {
                    Given.Add(port);
                    return port;
                }
            }

            // A crowded range: fall back to what the kernel hands out.
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            int fallback = ((IPEndPoint)listener.LocalEndpoint).Port;
            Given.Add(fallback);
            return fallback;
        }
    }

    private static bool CanBind(int port)
    {
        try
        {
            // Both the loopback address and the wildcard: a server told 0.0.0.0:PORT must find it free too.
            using var loopback = new TcpListener(IPAddress.Loopback, port);
            loopback.Start();
            loopback.Stop();
            using var any = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            any.Bind(new IPEndPoint(IPAddress.Any, port));
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>20000 up to the start of the ephemeral range (32768 by default on Linux); the whole unprivileged range
    /// minus the ephemeral one's neighbourhood when that cannot be read.</summary>
    private static (int Low, int High) ChooseRange()
    {
        const int low = 20000;
        try
        {
            string[] parts = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range")
                .Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);
            int ephemeralStart = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
            if (ephemeralStart - 1 - low >= 2000)
            {
                return (low, ephemeralStart - 1);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            // Not Linux, or an unusual layout: below.
        }

        return (low, 32767);
    }
}
