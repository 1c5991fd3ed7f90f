using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using KmsFarm.TestKit;

namespace KmsFarm.Deploy.Tests;

/// <summary>What the image runs, run here: the build stage's COPY and RUN steps (restore, publish) into a temp root, the
/// runtime stage's COPY and WORKDIR, then the ENTRYPOINT with the image's ENV (over the base image's) as the image's USER,
/// with only /tmp and /data writable, as <c>docker run --read-only --tmpfs /tmp -v …:/data</c> would. The HEALTHCHECK
/// command must report the node ready, the client the image carries must activate against it, nothing outside /tmp and
/// /data may change, and SIGTERM (docker stop) must end it cleanly. Category Image: it builds the node from scratch, so
/// tests/run-all.sh runs it on its own after the other assemblies rather than beside timing-sensitive farm tests.</summary>
[Trait("Category", "Image")]
public sealed class ImageRunTests
{
    /// <summary>What mcr.microsoft.com/dotnet/aspnet sets, which our ENV must override where it matters.</summary>
    private static readonly Dictionary<string, string> BaseImageEnvironment = new(StringComparer.Ordinal)
    {
        ["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ["APP_UID"] = "1654",
        ["ASPNETCORE_HTTP_PORTS"] = "8080",
        ["DOTNET_RUNNING_IN_CONTAINER"] = "true",
    };

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_image_builds_starts_reports_ready_serves_and_stops_as_its_user_writing_only_tmp_and_data()
    {
        var dockerfile = DockerfileTests.Load();
        using var builder = new ImageBuilder(dockerfile, Repository.Root);
        await builder.BuildAsync(dockerfile.Stage("build"), new Dictionary<string, string>(), Ct);
        var final = dockerfile.Final;
        string workdir = await builder.BuildAsync(final, new Dictionary<string, string>(), Ct);
        Assert.True(File.Exists(builder.Map(final, "/app/node/KmsFarm.Node.dll")), builder.Log.ToString());
        Assert.True(File.Exists(builder.Map(final, "/app/client/kmsfarm-client.dll")), builder.Log.ToString());

        // --tmpfs /tmp; HOME is the image user's, which does not exist and cannot be made (the root is read-only).
        string tmp = Path.Combine(builder.StageRoot(final), "tmp");
        Directory.CreateDirectory(tmp);
        File.SetUnixFileMode(tmp, (UnixFileMode)Convert.ToInt32("1777", 8));
        string[] user = final.Last("USER")!.Arguments.Split(':');
        var environment = new Dictionary<string, string>(BaseImageEnvironment, StringComparer.Ordinal)
        {
            ["HOME"] = builder.Map(final, "/app") + "/home",
            ["TMPDIR"] = tmp,
        };
        foreach (var (key, value) in final.Environment)
        {
            environment[key] = builder.MapText(final, value);
        }

        // Ports of this machine's choosing, as `-p` and a compose file would give; the image's HTTP address family stays.
        int kmsPort = LoopbackPorts.Free();
        string http = environment["KmsFarm__Listener__HttpEndpoint"];
        environment["KmsFarm__Listener__HttpEndpoint"] = http[..http.LastIndexOf(':')] + ":" + LoopbackPorts.Free().ToString(CultureInfo.InvariantCulture);
        environment["KmsFarm__Listener__KmsEndpoints__0"] = "127.0.0.1:" + kmsPort.ToString(CultureInfo.InvariantCulture);
        environment["KmsFarm__Cluster__SiloPort"] = LoopbackPorts.Free().ToString(CultureInfo.InvariantCulture);
        environment["KmsFarm__Node__Name"] = "image-test";

        var before = Snapshot(builder.StageRoot(final));
        string[] entrypoint = Dockerfile.ExecForm(final.Last("ENTRYPOINT")!.Arguments).Select(a => builder.Map(final, a)).ToArray();
        string[] healthcheck = Dockerfile.ExecForm(Dockerfile.Options(final.Last("HEALTHCHECK")!.Arguments).Remainder[4..]).Select(a => builder.Map(final, a)).ToArray();
        using var node = ContainerProcess.Start(entrypoint, environment, workdir, user);
        try
        {
            await WaitForHealthyAsync(healthcheck, environment, workdir, user, node);
            Assert.Equal(user[0], node.EffectiveUid());

            string[] activate = ["dotnet", builder.Map(final, "/app/client/kmsfarm-client.dll"), "activate", "--host", "127.0.0.1:" + kmsPort.ToString(CultureInfo.InvariantCulture), "--product", "Windows 11 Pro", "--json"];
            var (exitCode, output) = await ContainerProcess.RunAsync(activate, environment, workdir, user, TimeSpan.FromSeconds(60), Ct);
            Assert.True(exitCode == 0, $"activate exited with {exitCode}:\n{output}\nnode:\n{node.Output}");
            Assert.True(JsonDocument.Parse(output).RootElement.GetProperty("success").GetBoolean(), output);

            Assert.Equal(0, await node.StopAsync(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            node.Kill();
        }

        Assert.DoesNotContain("Overriding", node.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(builder.Map(final, "/data"), "kmsfarm.db")), "the embedded store is on the /data volume");
        var after = Snapshot(builder.StageRoot(final));
        Assert.Equal(before, after);
    }

    private static async Task WaitForHealthyAsync(string[] healthcheck, Dictionary<string, string> environment, string workdir, string[] user, ContainerProcess node)
    {
        var clock = Stopwatch.StartNew();
        string last = string.Empty;
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            Assert.False(node.HasExited, $"the node exited:\n{node.Output}");
            var (exitCode, output) = await ContainerProcess.RunAsync(healthcheck, environment, workdir, user, TimeSpan.FromSeconds(6), Ct);
            if (exitCode == 0)
            {
                Assert.Contains("/healthz/ready: 200", output, StringComparison.Ordinal);
                return;
            }

            last = output;
            await Task.Delay(500, Ct);
        }

        Assert.Fail($"HEALTHCHECK never passed; last answer:\n{last}\nnode:\n{node.Output}");
    }

    /// <summary>Every file and directory under <paramref name="root"/> except /tmp and /data, with size and time.</summary>
    private static List<string> Snapshot(string root) =>
        Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(root, p))
            .Where(p => !p.StartsWith("tmp", StringComparison.Ordinal) && !p.StartsWith("data", StringComparison.Ordinal))
            .Select(p => File.Exists(Path.Combine(root, p))
                ? $"{p} {new FileInfo(Path.Combine(root, p)).Length} {File.GetLastWriteTimeUtc(Path.Combine(root, p)).Ticks}"
                : p + "/")
            .Order(StringComparer.Ordinal)
            .ToList();
}
