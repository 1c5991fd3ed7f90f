using System.Globalization;

namespace KmsFarm.Node.Tests;

/// <summary>The open-file limit of this process, for tests that hold thousands of sockets. The .NET runtime raises its
/// soft limit to the hard one at start (so there is nothing to raise with setrlimit here, and a node process gets the same
/// limit); what it cannot do is go above the hard limit, which only an administrator can raise (<c>ulimit -Hn</c>).</summary>
internal static class OpenFileLimit
{
    /// <summary>The soft limit on open files (from /proc/self/limits); null when it cannot be read or is unlimited.</summary>
    public static long? Current()
    {
        foreach (string line in File.ReadLines("/proc/self/limits"))
        {
            if (line.StartsWith("Max open files", StringComparison.Ordinal))
            {
                string[] fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                return long.TryParse(fields[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long soft) ? soft : null;
            }
        }

        return null;
    }

    /// <summary>Fails the test, saying what to change, when fewer than <paramref name="needed"/> files may be open.</summary>
    public static void Require(long needed)
    {
        long? limit = Current();
        Assert.True(
            limit is null || limit >= needed,
            $"This test opens about {needed} sockets, but the open-file limit is {limit} (the runtime has already raised its soft " +
            "limit to the hard one). Raise the hard limit, e.g. `ulimit -Hn 8192` as root or in /etc/security/limits.conf.");
    }
}
