using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace KmsFarm.TestKit;

/// <summary>A throwaway Prometheus (Debian package <c>prometheus</c>) on 127.0.0.1 at a free port, scraping the given
/// targets as job <c>kmsfarm</c>, with its TSDB in a temp dir; optionally loading rule files. It runs as a child process and
/// is killed on dispose. Installs nothing: tests/run-all.sh installs the package.</summary>
public sealed class PrometheusServer : IAsyncDisposable
{
    public const string Job = "kmsfarm";

    private static readonly TimeSpan ReadyWithin = TimeSpan.FromSeconds(60);

    private readonly Process _process;
    private readonly List<string> _log;
    private readonly HttpClient _http;

    private PrometheusServer(string directory, int port, Process process, List<string> log)
    {
        Directory = directory;
        Port = port;
        _process = process;
        _log = log;
        _http = new HttpClient
        {
            BaseAddress = new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}")),
            Timeout = TimeSpan.FromSeconds(20),
        };
    }

    public string Directory { get; }

    public int Port { get; }

    /// <summary>What Prometheus logged so far (for failure messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return string.Join('\n', _log.TakeLast(50));
            }
        }
    }

    /// <param name="targets"><c>host:port</c> of each node's HTTP endpoint.</param>
    /// <param name="ruleFiles">Rule files to load (copied into the server's directory).</param>
    public static async Task<PrometheusServer> StartAsync(
        IReadOnlyList<string> targets,
        TimeSpan scrapeInterval,
        IReadOnlyList<string>? ruleFiles = null,
        CancellationToken cancellationToken = default)
    {
        string prometheus = ExternalTool.Find("prometheus") ?? throw new InvalidOperationException(
            "'prometheus' is not installed: install the Debian package prometheus (tests/run-all.sh does).");
        string directory = Path.Combine(Path.GetTempPath(), "kmsfarm-prometheus-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        try
        {
            var rules = new List<string>();
            foreach (string file in ruleFiles ?? [])
            {
                string name = string.Create(CultureInfo.InvariantCulture, $"rules-{rules.Count}-{Path.GetFileName(file)}");
                string copy = Path.Combine(directory, name);
                File.Copy(file, copy);
                rules.Add(copy);
            }

            string config = Path.Combine(directory, "prometheus.yml");
            await File.WriteAllTextAsync(config, Config(targets, scrapeInterval, rules), cancellationToken).ConfigureAwait(false);
            for (int attempt = 1; ; attempt++)
            {
                int port = LoopbackPorts.Free();
                var log = new List<string>();
                var process = Launch(prometheus, config, Path.Combine(directory, "data"), port, log);
                var server = new PrometheusServer(directory, port, process, log);
                try
                {
                    await server.WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
                    return server;
                }
                catch (InvalidOperationException) when (attempt < 3 && process.HasExited)
                {
                    // The port was taken between choosing and binding it: try another.
                    await server.StopProcessAsync().ConfigureAwait(false);
                }
                catch
                {
                    await server.StopProcessAsync().ConfigureAwait(false);
                    throw;
                }
            }
        }
        catch
        {
            TryDelete(directory);
            throw;
        }
    }

    /// <summary>An instant query (<c>/api/v1/query</c>) at the server's current time: the <c>data</c> object
    /// (<c>resultType</c>, <c>result</c>). Throws with Prometheus' error when the query fails.</summary>
    public async Task<JsonElement> QueryAsync(string promql, CancellationToken cancellationToken = default)
    {
        using var response = await _http.PostAsync(
                new Uri("/api/v1/query", UriKind.Relative), new FormUrlEncodedContent([new("query", promql)]), cancellationToken)
            .ConfigureAwait(false);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken).ConfigureAwait(false);
        if (body.GetProperty("status").GetString() != "success")
        {
            throw new InvalidOperationException($"Prometheus refused the query {promql}: {body}");
        }

        return body.GetProperty("data").Clone();
    }

    /// <summary>The rule groups Prometheus loaded (<c>/api/v1/rules</c>), with each rule's health and last error.</summary>
    public async Task<JsonElement> RulesAsync(CancellationToken cancellationToken = default)
    {
        var body = await _http.GetFromJsonAsync<JsonElement>(new Uri("/api/v1/rules", UriKind.Relative), cancellationToken)
            .ConfigureAwait(false);
        return body.GetProperty("data").GetProperty("groups").Clone();
    }

    /// <summary>Waits until every target of <see cref="Job"/> has been scraped successfully (<c>up == 1</c>).</summary>
    public async Task WaitForTargetsUpAsync(int count, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var data = await QueryAsync($"up{{job=\"{Job}\"}} == 1", cancellationToken).ConfigureAwait(false);
            if (data.GetProperty("result").GetArrayLength() >= count)
            {
                return;
            }

            if (clock.Elapsed > timeout)
            {
                throw new TimeoutException($"Prometheus did not scrape {count} targets within {timeout}:\n{Log}");
            }

            await Task.Delay(250, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await StopProcessAsync().ConfigureAwait(false);
        TryDelete(Directory);
    }

    private static string Config(IReadOnlyList<string> targets, TimeSpan scrapeInterval, IReadOnlyList<string> ruleFiles)
    {
        var ic = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        string interval = string.Create(ic, $"{(int)scrapeInterval.TotalMilliseconds}ms");
        text.Append(ic, $"global:\n  scrape_interval: {interval}\n  scrape_timeout: {interval}\n  evaluation_interval: {interval}\n");
        if (ruleFiles.Count > 0)
        {
            text.Append("rule_files:\n");
            foreach (string file in ruleFiles)
            {
                text.Append(ic, $"  - '{file}'\n");
            }
        }

        text.Append(ic, $"scrape_configs:\n  - job_name: {Job}\n    metrics_path: /metrics\n    static_configs:\n      - targets:\n");
        foreach (string target in targets)
        {
            text.Append(ic, $"          - '{target}'\n");
        }

        return text.ToString();
    }

    private static Process Launch(string prometheus, string config, string data, int port, List<string> log)
    {
        var info = new ProcessStartInfo(prometheus)
        {
            UseShellExecute = false,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        foreach (string argument in new[]
        {
            "--config.file=" + config,
            "--storage.tsdb.path=" + data,
            string.Create(CultureInfo.InvariantCulture, $"--web.listen-address=127.0.0.1:{port}"),
            "--log.level=warn",
        })
        {
            info.ArgumentList.Add(argument);
        }

        var process = new Process { StartInfo = info };
        DataReceivedEventHandler keep = (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (log)
                {
                    log.Add(e.Data);
                }
            }
        };
        process.ErrorDataReceived += keep;
        process.OutputDataReceived += keep;
        process.Start();
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return process;
    }

    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with {_process.ExitCode}:\n{Log}");
            }

            try
            {
                using var response = await _http.GetAsync(new Uri("/-/ready", UriKind.Relative), cancellationToken).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (clock.Elapsed > ReadyWithin)
            {
                throw new TimeoutException($"prometheus was not ready within {ReadyWithin}:\n{Log}");
            }

            await Task.Delay(100, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task StopProcessAsync()
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
    }

    private static void TryDelete(string directory)
    {
        try
        {
            System.IO.Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
