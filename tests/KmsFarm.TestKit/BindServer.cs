using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace KmsFarm.TestKit;

/// <summary>A throwaway BIND (<c>named</c>) for DNS tests: primary for the given zones, each allowing dynamic updates
/// signed with one TSIG key (HMAC-SHA256, written by <c>tsig-keygen</c> when it is installed), listening on 127.0.0.1
/// only at a free port, no recursion, config and journals in a temp dir. It runs in the foreground as a child process
/// and is killed on dispose. Installs nothing: tests/run-all.sh installs bind9, dnsutils and bind9-utils.</summary>
public sealed class BindServer : IAsyncDisposable
{
    public const string KeyName = "kmsfarm-test";

    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(30);

    private readonly Process _process;
    private readonly List<string> _log;

    private BindServer(string directory, int port, IReadOnlyList<string> zones, Process process, List<string> log)
    {
        Directory = directory;
        Port = port;
        Zones = zones;
        _process = process;
        _log = log;
    }

    public string Directory { get; }

    public int Port { get; }

    public IReadOnlyList<string> Zones { get; }

    /// <summary>The <c>--dns-server</c> value: <c>127.0.0.1:PORT</c>.</summary>
    public string Server => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>The key file the zones accept updates with (BIND key-file format).</summary>
    public string KeyFile => Path.Combine(Directory, KeyName + ".key");

    /// <summary>What named wrote to stderr so far (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return string.Join('\n', _log);
            }
        }
    }

    public static async Task<BindServer> StartAsync(IReadOnlyList<string> zones, CancellationToken cancellationToken = default)
    {
        string named = ExternalTool.Find("named") ?? throw new InvalidOperationException(
            "No BIND for the DNS tests: 'named' is not installed. Install the packages bind9, dnsutils and bind9-utils "
            + "(tests/run-all.sh does).");
        string directory = Path.Combine(Path.GetTempPath(), "kmsfarm-bind-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        try
        {
            await WriteKeyFileAsync(Path.Combine(directory, KeyName + ".key"), KeyName, cancellationToken).ConfigureAwait(false);
            foreach (string zone in zones)
            {
                await File.WriteAllTextAsync(Path.Combine(directory, zone + ".zone"), ZoneFile(zone), cancellationToken).ConfigureAwait(false);
            }

            // A port free for TCP is almost always free for UDP too; named exits at once when it is not, and we retry.
            for (int attempt = 1; ; attempt++)
            {
                int port = LoopbackPorts.Free();
                await File.WriteAllTextAsync(Path.Combine(directory, "named.conf"), Config(directory, port, zones), cancellationToken).ConfigureAwait(false);
                var (process, log, error) = await LaunchAsync(named, directory, cancellationToken).ConfigureAwait(false);
                if (process is not null)
                {
                    return new BindServer(directory, port, zones, process, log);
                }

                if (attempt == 3)
                {
                    throw new InvalidOperationException($"named did not start: {error}\n{string.Join('\n', log.TakeLast(30))}");
                }
            }
        }
        catch
        {
            TryDelete(directory);
            throw;
        }
    }

    /// <summary>Writes a key file for <paramref name="name"/> with a new random secret, as <c>tsig-keygen -a hmac-sha256</c>
    /// does (by running it when it is installed). Two calls with one name give two different secrets.</summary>
    public static async Task WriteKeyFileAsync(string path, string name, CancellationToken cancellationToken = default)
    {
        string text;
        if (ExternalTool.Find("tsig-keygen") is { } keygen)
        {
            var (exitCode, output, error) = await ExternalTool.RunAsync(keygen, ["-a", "hmac-sha256", name], cancellationToken: cancellationToken).ConfigureAwait(false);
            text = exitCode == 0 ? output : throw new InvalidOperationException($"tsig-keygen failed: {error}");
        }
        else
        {
            text = $"key \"{name}\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}\";\n}};\n";
        }

        await File.WriteAllTextAsync(path, text, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Runs <c>dig @127.0.0.1 -p PORT +short NAME TYPE</c> and returns its lines (e.g. <c>0 10 1688 kms.lab.test.</c>).</summary>
    public async Task<IReadOnlyList<string>> DigAsync(string name, string type, CancellationToken cancellationToken = default)
    {
        string dig = ExternalTool.Find("dig") ?? throw new InvalidOperationException("'dig' is not installed (package dnsutils).");
        var (exitCode, output, error) = await ExternalTool.RunAsync(
            dig, ["@127.0.0.1", "-p", Port.ToString(CultureInfo.InvariantCulture), "+short", "+norecurse", "+time=3", "+tries=2", name, type],
            cancellationToken: cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"dig {name} {type} exited with {exitCode}: {output}{error}");
        }

        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    /// <summary>Sends <paramref name="commands"/> (nsupdate syntax: <c>update add …</c>, <c>update delete …</c>) to this
    /// server with <c>nsupdate -k</c> and the zones' key, then <c>send</c>.</summary>
    public async Task NsUpdateAsync(string commands, CancellationToken cancellationToken = default)
    {
        string nsupdate = ExternalTool.Find("nsupdate") ?? throw new InvalidOperationException("'nsupdate' is not installed (package dnsutils).");
        string script = string.Create(CultureInfo.InvariantCulture, $"server 127.0.0.1 {Port}\n{commands.Trim()}\nsend\n");
        var (exitCode, output, error) = await ExternalTool.RunAsync(nsupdate, ["-k", KeyFile], script, cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"nsupdate exited with {exitCode}: {output}{error}\nscript:\n{script}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                await _process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        _process.Dispose();
        TryDelete(Directory);
    }

    private static async Task<(Process? Process, List<string> Log, string Error)> LaunchAsync(string named, string directory, CancellationToken cancellationToken)
    {
        var log = new List<string>();
        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        // -g: foreground, log to stderr, run as the invoking user; -n 1: one worker thread (the machine is shared).
        var info = new ProcessStartInfo(named) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string argument in new[] { "-g", "-n", "1", "-c", Path.Combine(directory, "named.conf") })
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (log)
            {
                log.Add(e.Data);
            }

            if (e.Data.EndsWith("running", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.OutputDataReceived += (_, _) => { };
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException("named exited"));
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            await ready.Task.WaitAsync(StartTimeout, cancellationToken).ConfigureAwait(false);
            return (process, log, string.Empty);
        }
        catch (Exception ex) when (ex is InvalidOperationException or TimeoutException)
        {
            if (!process.HasExited)
            {
                process.Kill();
            }

            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            process.Dispose();
            lock (log)
            {
                return (null, log, ex.Message);
            }
        }
    }

    private static string Config(string directory, int port, IReadOnlyList<string> zones)
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $$"""
            options {
                directory "{{directory}}";
                pid-file "{{directory}}/named.pid";
                session-keyfile "{{directory}}/session.key";
                managed-keys-directory "{{directory}}";
                listen-on port {{port}} { 127.0.0.1; };
                listen-on-v6 { none; };
                recursion no;
                allow-query { any; };
                dnssec-validation no;
                notify no;
            };
            controls { };
            include "{{directory}}/{{KeyName}}.key";

            """);
        foreach (string zone in zones)
        {
            text.Append(CultureInfo.InvariantCulture, $$"""
                zone "{{zone}}" {
                    type primary;
                    file "{{directory}}/{{zone}}.zone";
                    allow-update { key "{{KeyName}}"; };
                };

                """);
        }

        return text.ToString();
    }

    private static string ZoneFile(string zone) => $"""
        $TTL 300
        @   IN SOA ns.{zone}. hostmaster.{zone}. ( 1 3600 600 86400 300 )
            IN NS  ns.{zone}.
        ns  IN A   127.0.0.1

        """;

    private static void TryDelete(string directory)
    {
        try
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
            // Cleaned with the temp dir eventually.
        }
    }
}
