using System.Globalization;
using System.Net;
using KmsFarm.TestKit;

namespace KmsFarm.Node.Tests;

/// <summary>The node started as a real process with a bad setting, or one this machine refuses: it prints one line on
/// stderr naming the problem, no stack trace anywhere, and exits non-zero, promptly.</summary>
public sealed class StartupFailureTests
{
    private static readonly TimeSpan ExitWithin = TimeSpan.FromSeconds(60);

    /// <summary>Name, flags ({port} is a free port, {dir} a fresh temp directory), text the error line must contain.</summary>
    public static TheoryData<string, string[], string> BadStarts => new()
    {
        { "log level", ["--log-level", "Verbose"], "Logging:LogLevel:Default (--log-level) 'Verbose' is not a log level" },
        { "flag twice", ["--node-name", "a", "--node-name", "b"], "--node-name (KmsFarm:Node:Name) is given twice" },
        { "IPv4-mapped IPv6", ["--kms-endpoint", "[::ffff:127.0.0.1]:{port}"], "KmsFarm:Listener:KmsEndpoints:0 (--kms-endpoint) '[::ffff:127.0.0.1]:" },
        { "HTTP on the KMS endpoint", ["--kms-endpoint", "127.0.0.1:{port}", "--http-endpoint", "127.0.0.1:{port}"], "KmsFarm:Listener:HttpEndpoint (--http-endpoint) 127.0.0.1:" },
        { "KMS on the silo port", ["--kms-endpoint", "0.0.0.0:{port}", "--silo-port", "{port}"], "KmsFarm:Cluster:SiloPort (--silo-port)" },
        { "address not on this machine", ["--kms-endpoint", "192.0.2.1:{port}"], "KmsFarm:Listener:KmsEndpoints:0 (--kms-endpoint) 192.0.2.1:" },
        { "SQLite directory missing", ["--store", "sqlite:{dir}/no/such/dir/x.db"], "KmsFarm:Store:Location (--store) sqlite: the directory" },
        { "settings file missing", ["--config", "{dir}/no-such-settings.json"], "KmsFarm:ConfigFile (--config)" },
        { "settings file not JSON", ["--config", "{dir}/broken.json"], "KmsFarm:ConfigFile (--config)" },
        { "build that is no KMS host", ["--host-build", "10240"], "KmsFarm:Node:HostBuild (--host-build) 10240 is not a build a KMS host runs" },
        { "count floor above capacity", ["--minimum-count", "Windows=1000"], "KmsFarm:Activation:MinimumReportedCount:Windows is 1000" },
    };

    [Theory]
    [MemberData(nameof(BadStarts))]
    public async Task A_bad_setting_ends_start_up_with_one_line_and_a_non_zero_exit(string name, string[] flags, string expected)
    {
        var ct = TestContext.Current.CancellationToken;
        string dir = Directory.CreateTempSubdirectory("kmsfarm-start-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "broken.json"), "{ \"KmsFarm\": ", ct);
            string port = LoopbackPorts.Free().ToString(CultureInfo.InvariantCulture);
            var args = WithDefaults(flags.Select(f => f.Replace("{port}", port, StringComparison.Ordinal).Replace("{dir}", dir, StringComparison.Ordinal)).ToArray(), dir);

            await using var node = await NodeCommand.RunAsync(args, ExitWithin, ct, workingDirectory: dir);

            AssertOneLineFailure(node, expected, name);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A second node given the ports of a running one (both address families on the KMS port, as the defaults
    /// are) must not start: today's Linux sockets would let both listen, and clients would get two identities in turn.</summary>
    [Fact]
    public async Task A_second_node_on_the_ports_of_a_running_one_does_not_start()
    {
        var ct = TestContext.Current.CancellationToken;
        string dir = Directory.CreateTempSubdirectory("kmsfarm-start-").FullName;
        try
        {
            int kms = LoopbackPorts.Free(), http = LoopbackPorts.Free();
            string[] endpoints = ["--kms-endpoint", $"0.0.0.0:{kms}", "--kms-endpoint", $"[::]:{kms}", "--http-endpoint", $"127.0.0.1:{http}"];
            await using var first = NodeCommand.Start(WithDefaults([.. endpoints, "--store", $"sqlite:{dir}/a.db"], dir), dir);
            await WaitUntilReadyAsync(first, http, ct);

            await using var second = await NodeCommand.RunAsync(WithDefaults([.. endpoints, "--store", $"sqlite:{dir}/b.db"], dir), ExitWithin, ct, dir);

            AssertOneLineFailure(second, $"KmsFarm:Listener:KmsEndpoints:0 (--kms-endpoint) 0.0.0.0:{kms}", "busy ports");
            Assert.Contains("in use", second.StandardError[0], StringComparison.Ordinal);
            Assert.False(first.HasExited, "the first node stopped:\n" + first.Output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task Version_prints_the_build_and_exits_zero()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var node = await NodeCommand.RunAsync(["--version"], ExitWithin, ct);
        Assert.Equal(0, node.ExitCode);
        Assert.StartsWith("KmsFarm.Node ", Assert.Single(node.StandardOutput, l => l.Length > 0), StringComparison.Ordinal);
    }

    internal static void AssertOneLineFailure(NodeCommand node, string expected, string what)
    {
        Assert.True(node.ExitCode is not 0 and not 134, $"{what}: exit code {node.ExitCode}\n{node.Output}");
        Assert.False(node.PrintedStackTrace, $"{what}: a stack trace was printed\n{node.Output}");
        string line = Assert.Single(node.StandardError, l => l.Length > 0);
        Assert.Contains(expected, line, StringComparison.Ordinal);
    }

    /// <summary>Free loopback ports, a SQLite file in <paramref name="dir"/> and a quiet log, for every flag the case does
    /// not give itself.</summary>
    internal static string[] WithDefaults(string[] flags, string dir)
    {
        var args = new List<string>(flags);
        void Default(string flag, string value)
        {
            if (!flags.Contains(flag))
            {
                args.AddRange([flag, value]);
            }
        }

        Default("--kms-endpoint", $"127.0.0.1:{LoopbackPorts.Free()}");
        Default("--http-endpoint", $"127.0.0.1:{LoopbackPorts.Free()}");
        Default("--silo-port", LoopbackPorts.Free().ToString(CultureInfo.InvariantCulture));
        Default("--store", $"sqlite:{dir}/node.db");
        Default("--log-level", "Warning");
        return [.. args];
    }

    internal static async Task WaitUntilReadyAsync(NodeCommand node, int httpPort, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            Assert.False(node.HasExited, "the node exited:\n" + node.Output);
            try
            {
                if ((await http.GetAsync("/healthz/ready", cancellationToken)).StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
            {
                // Not listening yet.
            }

            Assert.True(DateTime.UtcNow < deadline, "the node was not ready within 90 s:\n" + node.Output);
            await Task.Delay(200, cancellationToken);
        }
    }
}
