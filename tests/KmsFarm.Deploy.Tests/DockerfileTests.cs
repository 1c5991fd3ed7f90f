using System.Globalization;

namespace KmsFarm.Deploy.Tests;

/// <summary>deploy/Dockerfile's statements (multi-stage, non-root numeric USER, ports, entry point, health check).
/// What the image runs is exercised in <see cref="ImageRunTests"/>.</summary>
public sealed class DockerfileTests
{
    public static Dockerfile Load() => Dockerfile.Parse(File.ReadAllText(Repository.PathOf("deploy/Dockerfile")));

    [Fact]
    public void Builds_with_the_sdk_and_runs_on_the_aspnet_runtime_image_without_a_shell_step()
    {
        var file = Load();
        Assert.True(file.Stages.Count >= 2, "multi-stage: a build stage and a runtime stage");
        Assert.StartsWith("mcr.microsoft.com/dotnet/sdk:10.0", file.Stage("build").BaseImage, StringComparison.Ordinal);
        Assert.StartsWith("mcr.microsoft.com/dotnet/aspnet:10.0", file.Final.BaseImage, StringComparison.Ordinal);
        Assert.Contains("chiseled", file.Final.BaseImage, StringComparison.Ordinal);
        // A chiseled image has no shell: the runtime stage can only copy what the build stage made.
        Assert.Empty(file.Final.All("RUN"));
        Assert.All(file.Final.All("COPY"), c => Assert.Equal("build", Dockerfile.Options(c.Arguments).Options["from"]));
    }

    [Fact]
    public void Runs_as_a_numeric_non_root_user()
    {
        var user = Load().Final.Last("USER");
        Assert.NotNull(user);
        string[] ids = user.Arguments.Split(':');
        Assert.Equal(2, ids.Length);
        Assert.All(ids, id => Assert.True(int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0, $"USER {user.Arguments}"));

        // The store's volume belongs to that user; everything else stays root's (read-only to the node).
        var chowned = Load().Final.All("COPY").Select(c => Dockerfile.Options(c.Arguments)).Where(c => c.Options.ContainsKey("chown")).ToList();
        Assert.All(chowned, c => Assert.Equal(user.Arguments, c.Options["chown"]));
        Assert.Equal(["/data /data"], chowned.Select(c => c.Remainder));
    }

    [Fact]
    public void Exposes_the_kms_http_and_silo_ports()
    {
        var exposed = Load().Final.All("EXPOSE").SelectMany(e => e.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(["1688/tcp", "8688/tcp", "11111/tcp"], exposed);
        Assert.Equal("0.0.0.0:8688", Load().Final.Environment["KmsFarm__Listener__HttpEndpoint"]);
    }

    [Fact]
    public void Enters_the_node_and_checks_health_on_healthz_ready_in_exec_form()
    {
        var final = Load().Final;
        Assert.Equal(["dotnet", "/app/node/KmsFarm.Node.dll"], Dockerfile.ExecForm(final.Last("ENTRYPOINT")!.Arguments));
        Assert.Null(final.Last("CMD"));

        var (options, rest) = Dockerfile.Options(final.Last("HEALTHCHECK")!.Arguments);
        Assert.StartsWith("CMD ", rest, StringComparison.Ordinal);
        Assert.Equal(["dotnet", "/app/node/KmsFarm.Node.dll", "probe", "ready"], Dockerfile.ExecForm(rest[4..]));
        Assert.Equal(["interval", "retries", "start-period", "timeout"], options.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Keeps_local_build_output_out_of_the_context()
    {
        var ignore = new DockerIgnore(File.ReadAllText(Repository.PathOf(".dockerignore")));
        Assert.True(ignore.IsIgnored("src/KmsFarm.Node/obj/project.assets.json"));
        Assert.True(ignore.IsIgnored("src/KmsFarm.Node/bin/Release/net10.0/KmsFarm.Node.dll"));
        Assert.True(ignore.IsIgnored(".git/HEAD"));
        Assert.False(ignore.IsIgnored("src/KmsFarm.Node/Program.cs"));
        Assert.False(ignore.IsIgnored("Directory.Packages.props"));
    }
}
