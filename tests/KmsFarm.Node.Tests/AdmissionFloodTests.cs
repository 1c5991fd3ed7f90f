using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;

namespace KmsFarm.Node.Tests;

/// <summary>Not run beside other tests: the floods below load the machine, and their figures should be the node's alone.</summary>
[CollectionDefinition(nameof(FloodCollection), DisableParallelization = true)]
public sealed class FloodCollection;

/// <summary>Floods and slow clients against a real node process (<c>dotnet KmsFarm.Node.dll</c>, SQLite store), all on
/// loopback, each party from its own address (127.0.0.X): one source holding 2,000 connections, slow clients that never
/// finish their bind, one source flooding requests. Every loop is bounded. Figures in docs/RELIABILITY.md ("Admission").</summary>
[Collection(nameof(FloodCollection))]
public sealed class AdmissionFloodTests
{
    private const string Attacker = "127.0.0.2";
    private const int AttackerSlots = 2000;
    private const int DefaultPerSource = 64;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task One_source_holding_2000_connections_leaves_the_node_to_the_others_and_is_refused_by_reason()
    {
        OpenFileLimit.Require(AttackerSlots + 500);
        await using var node = await StartNodeAsync([]);
        await using var hog = ConnectionHog.Start(node.KmsEndPoint, Attacker, AttackerSlots, TimeSpan.FromSeconds(1));
        await WaitForRefusalsAsync(node, "per_source_limit", AttackerSlots - DefaultPerSource);

        // Other sources, one activation per connection as Windows clients do, while the attacker keeps knocking.
        int activated = 0;
        for (int i = 0; i < 100; i++)
        {
            string source = "127.0.0." + (3 + (i % 4)).ToString(CultureInfo.InvariantCulture);
            if (await AdmissionClient.TryActivateOnceAsync(node.KmsEndPoint, source, Ct, timeoutSeconds: 30))
            {
                activated++;
            }
        }

        using var http = Http(node);
        var ready = await http.GetAsync("/healthz/ready", Ct);
        var refusals = await ScrapeRefusalsAsync(node);
        TestContext.Current.SendDiagnosticMessage(
            $"activated {activated} of 100 from other sources; attacker connects {hog.Connects}, closed by the node {hog.ClosedByNode}, " +
            $"open {hog.Open}; refusals {string.Join(", ", refusals.Select(m => $"{m.Key} {m.Value}"))}");

        Assert.True(activated >= 99, $"only {activated} of 100 activations from other sources succeeded");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode); // one source cannot take the node's cap
        Assert.True(refusals.GetValueOrDefault("per_source_limit") >= AttackerSlots - DefaultPerSource);
        Assert.False(refusals.ContainsKey("connection_limit"));
        Assert.False(refusals.ContainsKey("rate_limited"));

        // The connections the node did admit sent nothing: they are cut at the handshake timeout, and the freed slot is
        // taken by the attacker's next try. Waited for, not timed.
        await WaitForRefusalsAsync(node, "handshake_timeout", DefaultPerSource);

        // One Warning line per source per 10 s sums up the refusals, not one line per refused connection.
        string summary = $"from {Attacker} in the last 10 s: ";
        await WaitUntilAsync(
            () => node.Lines.Any(l => l.Contains(summary, StringComparison.Ordinal)), "the Warning summary of the attacker's refusals");
        var lines = node.Lines.Where(l => l.Contains(summary, StringComparison.Ordinal)).ToList();
        double refused = (await ScrapeRefusalsAsync(node)).Values.Sum();
        Assert.Contains("per_source_limit", lines[0], StringComparison.Ordinal);
        Assert.True(lines.Count * 100 < refused, $"{lines.Count} summary lines for {refused} refusals:\n{string.Join('\n', lines)}");
    }

    [Fact]
    public async Task Slow_clients_that_never_finish_their_bind_are_cut_at_the_handshake_timeout()
    {
        // The idle timeout far away: only the handshake timeout (default 5 s) can end a bind that dribbles in for ~30 s.
        await using var node = await StartNodeAsync(["--idle-timeout", "600"]);

        // Ten slowloris connections: a bind PDU one byte every 250 ms.
        var slow = Enumerable.Range(0, 10).Select(_ => DribbleAsync(node.KmsEndPoint, "127.0.0.7")).ToArray();
        var sent = await Task.WhenAll(slow);

        var bind = BindPdu();
        Assert.All(sent, n => Assert.InRange(n, 1, bind.Length - 1)); // cut before the bind was complete
        var refusals = await ScrapeRefusalsAsync(node);
        Assert.Equal(10, refusals.GetValueOrDefault("handshake_timeout"));
        Assert.Equal(10, refusals.Values.Sum());

        // The source is not punished beyond that: a client from the same address that binds at once is served.
        Assert.True(await AdmissionClient.TryActivateOnceAsync(node.KmsEndPoint, "127.0.0.7", Ct, timeoutSeconds: 30));
    }

    [Fact]
    public async Task A_request_flood_from_one_source_is_rate_limited_without_hurting_other_sources()
    {
        // 200 requests at once per source, then one a second: the flood below needs far more, whatever the machine's speed.
        await using var node = await StartNodeAsync(["--request-rate", "1", "--request-burst", "200"]);

        // Eight connections from one address, 250 requests each back to back; meanwhile 100 activations from another.
        var clock = Stopwatch.StartNew();
        var flood = Enumerable.Range(0, 8).Select(_ => FloodAsync(node.KmsEndPoint, "127.0.0.8", 250)).ToArray();
        int others = 0;
        for (int i = 0; i < 100; i++)
        {
            if (await AdmissionClient.TryActivateOnceAsync(node.KmsEndPoint, "127.0.0.9", Ct, timeoutSeconds: 30))
            {
                others++;
            }
        }

        var results = await Task.WhenAll(flood);
        double seconds = clock.Elapsed.TotalSeconds;
        long activated = results.Sum(r => r.Activated), busy = results.Sum(r => r.Busy);
        var refusals = await ScrapeRefusalsAsync(node);
        TestContext.Current.SendDiagnosticMessage(
            $"flood: {activated} activated, {busy} too busy of 2000 in {seconds:F1} s; other source: {others} of 100 activated");

        Assert.True(others >= 99, $"only {others} of 100 activations from another source succeeded");
        Assert.Equal(2000, activated + busy); // every flood request was answered, none lost
        Assert.InRange(activated, 200, 200 + (long)Math.Ceiling(seconds) + 1); // the burst, then the rate
        Assert.Equal(busy, refusals.GetValueOrDefault("rate_limited"));
    }

    /// <summary>A node process on a SQLite file of its own, logging at Warning.</summary>
    private static Task<NodeProcess> StartNodeAsync(IReadOnlyList<string> extraArgs) => NodeProcess.StartAsync("flood-node", extraArgs, Ct);

    private static HttpClient Http(NodeProcess node) => new() { BaseAddress = node.BaseUri, Timeout = TimeSpan.FromSeconds(10) };

    /// <summary>kms_admission_refusals_total by reason, from /metrics.</summary>
    private static async Task<Dictionary<string, double>> ScrapeRefusalsAsync(NodeProcess node)
    {
        using var http = Http(node);
        string text = await http.GetStringAsync("/metrics", Ct);
        return PrometheusText.Parse(text)
            .Where(s => s.Name == "kms_admission_refusals_total")
            .GroupBy(s => s.Labels["reason"])
            .ToDictionary(g => g.Key, g => g.Sum(s => s.Value));
    }

    /// <summary>Waits (bounded) until the node has counted <paramref name="count"/> refusals of <paramref name="reason"/>.</summary>
    private static Task WaitForRefusalsAsync(NodeProcess node, string reason, int count) =>
        WaitUntilAsync(
            async () => (await ScrapeRefusalsAsync(node)).GetValueOrDefault(reason) >= count, $"{count} {reason} refusals", node);

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what, null);

    /// <summary>Polls <paramref name="condition"/> for up to 60 s (a generous bound on a loaded machine, not a measurement).</summary>
    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, NodeProcess? node)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(
                clock.Elapsed < TimeSpan.FromSeconds(60), $"no {what} after 60 s" + (node is null ? string.Empty : ":\n" + node.Output));
            await Task.Delay(200, Ct);
        }
    }

    private static byte[] BindPdu() => RecordedVectors.Load("v6_win10pro_ndr32").Connections[0].ClientToServer.First().Bytes!;

    /// <summary>Sends a bind one byte every 250 ms until the node closes the connection; how many bytes went out by then.
    /// Fails if the whole bind went out and the node still had not closed the connection 60 s later.</summary>
    private static async Task<int> DribbleAsync(IPEndPoint node, string localAddress)
    {
        var bind = BindPdu();
        using var socket = await AdmissionClient.OpenRawAsync(node, localAddress, Ct);
        var closed = AdmissionClient.ReadUntilClosedAsync(socket, Ct);
        int sent = 0;
        while (sent < bind.Length && !closed.IsCompleted)
        {
            try
            {
                sent += await socket.SendAsync(bind.AsMemory(sent, 1), SocketFlags.None, Ct);
            }
            catch (SocketException)
            {
                break; // cut
            }

            await Task.WhenAny(closed, Task.Delay(250, Ct));
        }

        Assert.Equal(0, await closed.WaitAsync(TimeSpan.FromSeconds(60), Ct)); // closed without a byte of answer
        return sent;
    }

    /// <summary>One connection from <paramref name="localAddress"/> sending <paramref name="requests"/> activations back to
    /// back: how many were activated and how many got "server too busy".</summary>
    private static async Task<(long Activated, long Busy)> FloodAsync(IPEndPoint node, string localAddress, int requests)
    {
        await using var connection = await AdmissionClient.ConnectAsync(node, localAddress, Ct, timeoutSeconds: 30);
        long activated = 0, busy = 0;
        for (int i = 0; i < requests; i++)
        {
            var result = await AdmissionClient.ActivateAsync(connection, Ct);
            if (result.Succeeded)
            {
                activated++;
            }
            else if (result.HResult == KmsHResults.ServerTooBusy)
            {
                busy++;
            }
        }

        return (activated, busy);
    }
}
