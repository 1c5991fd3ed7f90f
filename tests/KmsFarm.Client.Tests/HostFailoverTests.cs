using System.CommandLine;
using System.Text.Json;
using KmsFarm.Client.Cli;
using KmsFarm.TestKit;

namespace KmsFarm.Client.Tests;

/// <summary>How clients behave like Windows when hosts die or freeze: <see cref="HostBackoff"/> on its own, and
/// <c>activate</c> with a host list failing over, sticking to the host that answered and remembering the others'
/// backoff in its host cache.</summary>
public sealed class HostFailoverTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void A_host_that_failed_goes_last_until_its_backoff_passes_then_one_caller_probes_it()
    {
        var time = new ManualTimeProvider();
        var backoff = new HostBackoff(time);
        string[] hosts = ["a:1688", "b:1688", "c:1688"];

        backoff.RecordFailure("a:1688");
        Assert.Equal(["b:1688", "c:1688", "a:1688"], backoff.Order(hosts, h => h));
        Assert.True(backoff.IsBackingOff("A:1688")); // names compare as DNS does

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(hosts, backoff.Order(hosts, h => h)); // this caller holds the probe …
        Assert.Equal(["b:1688", "c:1688", "a:1688"], backoff.Order(hosts, h => h)); // … so the next one skips it

        backoff.RecordFailure("a:1688"); // the probe failed: 2 s
        time.Advance(TimeSpan.FromSeconds(1.5));
        Assert.True(backoff.IsBackingOff("a:1688"));
        time.Advance(TimeSpan.FromSeconds(0.5));
        Assert.False(backoff.IsBackingOff("a:1688"));

        backoff.RecordSuccess("a:1688");
        Assert.Equal(hosts, backoff.Order(hosts, h => h));
        Assert.Equal(hosts, backoff.Order(hosts, h => h));
    }

    [Fact]
    public void The_backoff_doubles_up_to_its_maximum_and_survives_an_export_and_import()
    {
        var time = new ManualTimeProvider();
        var backoff = new HostBackoff(time);
        Assert.Equal(
            [1, 2, 4, 8, 16, 32, 60, 60],
            Enumerable.Range(1, 8).Select(n => (int)backoff.Delay(n).TotalSeconds));

        backoff.RecordFailure("dead:1688");
        backoff.RecordFailure("dead:1688");
        var copy = new HostBackoff(time);
        copy.Import(backoff.Export());
        var entry = Assert.Single(copy.Export());
        Assert.Equal(new HostBackoffEntry("dead:1688", 2, time.GetUtcNow() + TimeSpan.FromSeconds(2)), entry);
    }

    [Fact]
    public void Hosts_backing_off_are_tried_last_soonest_retry_first()
    {
        var time = new ManualTimeProvider();
        var backoff = new HostBackoff(time);
        backoff.RecordFailure("a");
        backoff.RecordFailure("a");
        backoff.RecordFailure("b");

        Assert.Equal(["c", "b", "a"], backoff.Order(["a", "b", "c"], h => h));
    }

    [Fact]
    public async Task Activate_fails_over_along_a_host_list_and_next_time_goes_straight_to_the_host_that_answered()
    {
        int dead = LoopbackPorts.Free();
        await using var live = new TestKmsServer();
        await using var other = new TestKmsServer();
        string cache = Path.Combine(Path.GetTempPath(), "kmsfarm-hosts-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            string hosts = $"127.0.0.1:{dead},{live.HostPort},{other.HostPort}";
            string[] args = ["activate", "--host", hosts, "--host-cache", cache, "--product", "Windows 10 Professional"];

            var (code, output, _) = await RunAsync(args);
            Assert.Equal(ExitCodes.Success, code);
            Assert.Contains($"127.0.0.1:{dead} did not answer", output, StringComparison.Ordinal);
            Assert.Single(live.Calls);

            // The kept host first, without trying the dead one again.
            (code, output, _) = await RunAsync([.. args, "--json"]);
            Assert.Equal(ExitCodes.Success, code);
            using (var json = JsonDocument.Parse(output))
            {
                Assert.Equal(live.HostPort, json.RootElement.GetProperty("kmsHost").GetString());
                Assert.False(json.RootElement.TryGetProperty("unreachable", out _));
            }

            Assert.Equal(2, live.Calls.Count);
            Assert.Empty(other.Calls);

            // The file keeps the dead host's backoff.
            using (var file = JsonDocument.Parse(await File.ReadAllTextAsync(cache, Ct)))
            {
                var entry = file.RootElement.GetProperty("backoff").GetProperty($"127.0.0.1:{dead}");
                Assert.Equal(1, entry.GetProperty("failures").GetInt32());
            }
        }
        finally
        {
            File.Delete(cache);
        }
    }

    [Fact]
    public async Task Activate_tries_a_host_still_backing_off_in_its_host_cache_after_the_others()
    {
        int dead = LoopbackPorts.Free();
        await using var live = new TestKmsServer();
        string cache = Path.Combine(Path.GetTempPath(), "kmsfarm-hosts-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            // As an earlier run leaves it after the host failed five times in a row (the retry time far off, whatever the test's pace).
            await File.WriteAllTextAsync(cache, $$"""
                { "backoff": { "127.0.0.1:{{dead}}": { "failures": 5, "retryAt": "{{DateTimeOffset.UtcNow.AddHours(1):O}}" } } }
                """, Ct);

            var (code, output, _) = await RunAsync(
                "activate", "--host", $"127.0.0.1:{dead},{live.HostPort}", "--host-cache", cache, "--product", "Windows 10 Professional");

            Assert.Equal(ExitCodes.Success, code);
            Assert.DoesNotContain("did not answer", output, StringComparison.Ordinal);
            Assert.Single(live.Calls);
            using var file = JsonDocument.Parse(await File.ReadAllTextAsync(cache, Ct));
            Assert.Equal(live.HostPort, file.RootElement.GetProperty("kept").GetProperty($"hosts:127.0.0.1:{dead},{live.HostPort}").GetProperty("host").GetString());
            Assert.Equal(5, file.RootElement.GetProperty("backoff").GetProperty($"127.0.0.1:{dead}").GetProperty("failures").GetInt32());
        }
        finally
        {
            File.Delete(cache);
        }
    }

    [Fact]
    public async Task Activate_moves_past_a_frozen_host_within_its_timeout()
    {
        await using var frozen = new FrozenKmsHost();
        await using var live = new TestKmsServer();

        var (code, output, _) = await RunAsync(
            "activate", "--host", $"{frozen.Endpoint},{live.HostPort}", "--timeout", "1", "--product", "Windows 10 Professional");

        Assert.Equal(ExitCodes.Success, code);
        Assert.Contains("did not answer within 1 s", output, StringComparison.Ordinal);
        Assert.Single(live.Calls);
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var config = new InvocationConfiguration { Output = output, Error = error };
        int code = await ClientCli.CreateRootCommand(ClientCatalog.Default).Parse(args).InvokeAsync(config, Ct);
        return (code, output.ToString(), error.ToString());
    }
}
