using System.Globalization;
using KmsFarm.TestKit;

namespace KmsFarm.Node.Tests;

/// <summary>The test kit's port choice: a port handed to a server must not be one an outgoing connection of another test
/// can take before the server binds it (the kernel's ephemeral range), nor one handed out before.</summary>
public sealed class LoopbackPortsTests
{
    [Fact]
    public void Free_ports_are_below_the_ephemeral_range_and_never_repeat()
    {
        int ephemeralStart = int.Parse(
            File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries)[0],
            CultureInfo.InvariantCulture);
        var ports = Enumerable.Range(0, 300).Select(_ => LoopbackPorts.Free()).ToList();

        Assert.All(ports, p => Assert.InRange(p, 1024, ephemeralStart - 1));
        Assert.Equal(ports.Count, ports.Distinct().Count());
    }
}
