using System.Diagnostics;
using KmsFarm.TestKit;

namespace KmsFarm.Node.Tests;

/// <summary>Relative paths and settings files are the working directory's, however the node is started.</summary>
public sealed class WorkingDirectoryTests
{
    [Fact]
    public async Task The_working_directory_holds_the_default_database_and_its_appsettings_json_is_read()
    {
        var ct = TestContext.Current.CancellationToken;
        string dir = Directory.CreateTempSubdirectory("kmsfarm-cwd-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "appsettings.json"), """{ "KmsFarm": { "Node": { "Name": "from-working-dir" } } }""", ct);
            int http = LoopbackPorts.Free();
            string[] args = ["--kms-endpoint", $"127.0.0.1:{LoopbackPorts.Free()}", "--http-endpoint", $"127.0.0.1:{http}", "--silo-port", $"{LoopbackPorts.Free()}"];
            await using var node = NodeCommand.Start(args, workingDirectory: dir);
            await StartupFailureTests.WaitUntilReadyAsync(node, http, ct);

            Assert.True(File.Exists(Path.Combine(dir, "kmsfarm.db")), "kmsfarm.db is not in the working directory:\n" + node.Output);
            Assert.Contains(node.StandardOutput, l => l.Contains("Node from-working-dir:", StringComparison.Ordinal));

            // SIGTERM (kill PID, systemd, Kubernetes) is a graceful stop: exit code 0.
            node.Terminate();
            await node.WaitForExitAsync(TimeSpan.FromSeconds(60), ct);
            Assert.Equal(0, node.ExitCode);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_settings_file_is_read_and_flags_win_over_it()
    {
        var ct = TestContext.Current.CancellationToken;
        string dir = Directory.CreateTempSubdirectory("kmsfarm-cwd-").FullName;
        try
        {
            await File.WriteAllTextAsync(
                Path.Combine(dir, "lab.json"),
                """{ "KmsFarm": { "Node": { "Name": "from-file" }, "Listener": { "MaxConnections": 7 } } }""",
                ct);
            var args = StartupFailureTests.WithDefaults(["--config", "lab.json", "--max-connections", "9", "--log-level", "Information"], dir);
            int http = int.Parse(args[Array.IndexOf(args, "--http-endpoint") + 1].Split(':')[1], System.Globalization.CultureInfo.InvariantCulture);
            await using var node = NodeCommand.Start(args, workingDirectory: dir);
            await StartupFailureTests.WaitUntilReadyAsync(node, http, ct);

            Assert.Contains(node.StandardOutput, l => l.Contains("Node from-file:", StringComparison.Ordinal) && l.Contains("max connections 9", StringComparison.Ordinal));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The README's first command: the database lands where the command was typed, not in src/KmsFarm.Node.</summary>
    [Fact]
    public async Task Dotnet_run_keeps_the_callers_working_directory()
    {
        var ct = TestContext.Current.CancellationToken;
        string project = Path.Combine(RepositoryRoot(), "src", "KmsFarm.Node");
        string projectDatabase = Path.Combine(project, "kmsfarm.db");
        bool existedBefore = File.Exists(projectDatabase);
        string dir = Directory.CreateTempSubdirectory("kmsfarm-cwd-").FullName;
        string configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
            ? "Release" : "Debug";
        var info = new ProcessStartInfo(NodeCommand.DotnetHost())
        {
            WorkingDirectory = dir,
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (string argument in (string[])["run", "--no-build", "-c", configuration, "--project", project, "--",
            "--kms-endpoint", "127.0.0.1:0", "--http-endpoint", "127.0.0.1:0", "--silo-port", $"{LoopbackPorts.Free()}", "--log-level", "Warning"])
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        try
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
            while (!File.Exists(Path.Combine(dir, "kmsfarm.db")) && (existedBefore || !File.Exists(projectDatabase)) && !process.HasExited)
            {
                Assert.True(DateTime.UtcNow < deadline, "no kmsfarm.db within 120 s");
                await Task.Delay(200, ct);
            }

            Assert.True(File.Exists(Path.Combine(dir, "kmsfarm.db")),
                $"kmsfarm.db is not in the working directory {dir} (in the project directory: {File.Exists(projectDatabase)}; exited: {process.HasExited})");
        }
        finally
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(ct);
            if (!existedBefore)
            {
                foreach (string file in Directory.GetFiles(project, "kmsfarm.db*"))
                {
                    File.Delete(file);
                }
            }

            Directory.Delete(dir, recursive: true);
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "KmsFarm.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException("KmsFarm.sln not found above " + AppContext.BaseDirectory);
    }
}
