using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace KmsFarm.TestKit;

/// <summary>A PostgreSQL server for tests. When <see cref="EnvironmentVariable"/> holds a connection string, that server
/// is used as is (it cannot be stopped). Otherwise a throwaway cluster is made from the installed binaries (the newest
/// /usr/lib/postgresql/N/bin, else initdb and pg_ctl on PATH) in a temp dir: trust auth, 127.0.0.1 only, a free port, the
/// socket in that dir, fsync on. As root it runs as the <c>postgres</c> user, because initdb refuses root. Disposing
/// stops it and deletes the dir.</summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string EnvironmentVariable = "KMSFARM_TEST_DB";

    private const string SuperUser = "postgres";

    private readonly string? _binDirectory;
    private readonly string? _directory;
    private readonly bool _runAsPostgres;
    private int _disposed;

    private PostgresServer(string connectionString)
    {
        ConnectionString = connectionString;
    }

    private PostgresServer(string binDirectory, string directory, int port, bool runAsPostgres)
    {
        _binDirectory = binDirectory;
        _directory = directory;
        _runAsPostgres = runAsPostgres;
        Port = port;
        ConnectionString = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = port,
            Username = SuperUser,
            Database = "postgres",
            Pooling = false,
        }.ConnectionString;
    }

    /// <summary>A superuser connection string to the server's maintenance database.</summary>
    public string ConnectionString { get; }

    /// <summary>False when the server comes from <see cref="EnvironmentVariable"/>.</summary>
    public bool IsThrowaway => _directory is not null;

    public int Port { get; }

    public bool IsRunning { get; private set; } = true;

    private string DataDirectory => Path.Combine(_directory!, "data");

    private string LogFile => Path.Combine(_directory!, "server.log");

    public static async Task<PostgresServer> CreateAsync(CancellationToken cancellationToken)
    {
        string? external = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            return new PostgresServer(external);
        }

        string binDirectory = FindBinDirectory() ?? throw new InvalidOperationException(
            "No PostgreSQL for the tests: the server binaries (initdb, pg_ctl) are not in /usr/lib/postgresql/*/bin or on PATH, "
            + $"and {EnvironmentVariable} is not set. Install the 'postgresql' package (tests/run-all.sh does) or set "
            + $"{EnvironmentVariable} to the connection string of a server where the tests may create databases.");

        bool asRoot = string.Equals(Environment.UserName, "root", StringComparison.Ordinal);
        // /tmp, not $TMPDIR: the postgres user must reach it, and the socket path must stay short.
        string root = Directory.Exists("/tmp") ? "/tmp" : Path.GetTempPath();
        string directory = Path.Combine(root, "kmsfarm-pg-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        PostgresServer? server = null;
        try
        {
            if (asRoot)
            {
                await RunAsync("chown", ["postgres:postgres", directory], cancellationToken).ConfigureAwait(false);
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }

            server = new PostgresServer(binDirectory, directory, LoopbackPorts.Free(), asRoot);
            await server.InitDbAsync(cancellationToken).ConfigureAwait(false);
            server.IsRunning = false;
            await server.StartAsync(cancellationToken).ConfigureAwait(false);
            AppDomain.CurrentDomain.ProcessExit += server.OnProcessExit;
            return server;
        }
        catch
        {
            if (server is not null)
            {
                await server.DisposeAsync().ConfigureAwait(false);
            }
            else
            {
                Directory.Delete(directory, recursive: true);
            }

            throw;
        }
    }

    /// <summary>Creates an empty database and returns a connection string for it.</summary>
    public async Task<string> CreateDatabaseAsync(CancellationToken cancellationToken)
    {
        string name = "kmsfarm_test_" + Guid.NewGuid().ToString("N")[..16];
        await using (var connection = new NpgsqlConnection(ConnectionString))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        return new NpgsqlConnectionStringBuilder(ConnectionString) { Database = name, Pooling = true }.ConnectionString;
    }

    /// <summary>Drops a database made by <see cref="CreateDatabaseAsync"/>, closing its sessions.</summary>
    public async Task DropDatabaseAsync(string connectionString, CancellationToken cancellationToken)
    {
        string name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        await using var command = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name.Replace("\"", "\"\"", StringComparison.Ordinal)}\" WITH (FORCE)", connection);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Stops the server (fast shutdown: sessions are closed, committed data is kept).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        EnsureThrowaway();
        if (IsRunning)
        {
            await PgCtlAsync(["stop", "-D", DataDirectory, "-m", "fast", "-w", "-s"], cancellationToken).ConfigureAwait(false);
            IsRunning = false;
        }
    }

    /// <summary>Starts the server again on the same port.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        EnsureThrowaway();
        if (!IsRunning)
        {
            await PgCtlAsync(["start", "-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "-s"], cancellationToken).ConfigureAwait(false);
            IsRunning = true;
        }
    }

    /// <summary>Freezes every process of the server (SIGSTOP to the postmaster and its children), as a hung or paused
    /// database looks to its clients: connections stay open, nothing answers. <see cref="Thaw"/> resumes it.</summary>
    public void Freeze() => Signal("STOP");

    public void Thaw() => Signal("CONT");

    private void Signal(string signal)
    {
        EnsureThrowaway();
        int postmaster = int.Parse(File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).First(), CultureInfo.InvariantCulture);
        var pids = new List<int> { postmaster };
        foreach (string dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
            {
                try
                {
                    // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so read after the last ')'.
                    string stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                    if (int.Parse(fields[1], CultureInfo.InvariantCulture) == postmaster)
                    {
                        pids.Add(pid);
                    }
                }
                catch (IOException)
                {
                    // The process ended meanwhile.
                }
            }
        }

        using var kill = Process.Start("kill", [$"-{signal}", .. pids.Select(p => p.ToString(CultureInfo.InvariantCulture))])!;
        kill.WaitForExit();
    }

    public async Task RestartAsync(CancellationToken cancellationToken)
    {
        await StopAsync(cancellationToken).ConfigureAwait(false);
        await StartAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0 || !IsThrowaway)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        try
        {
            if (IsRunning)
            {
                await PgCtlAsync(["stop", "-D", DataDirectory, "-m", "fast", "-w", "-s"], CancellationToken.None).ConfigureAwait(false);
                IsRunning = false;
            }
        }
        finally
        {
            Directory.Delete(_directory!, recursive: true);
        }
    }

    private void OnProcessExit(object? sender, EventArgs e) => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private void EnsureThrowaway()
    {
        if (!IsThrowaway)
        {
            throw new NotSupportedException(
                $"This test stops and starts PostgreSQL, which needs the throwaway server: unset {EnvironmentVariable}.");
        }
    }

    private async Task InitDbAsync(CancellationToken cancellationToken)
    {
        await RunToolAsync("initdb",
            ["-D", DataDirectory, "-U", SuperUser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
            cancellationToken).ConfigureAwait(false);
        string settings = string.Create(CultureInfo.InvariantCulture, $"""

            # kmsfarm test server
            listen_addresses = '127.0.0.1'
            port = {Port}
            unix_socket_directories = '{_directory}'
            fsync = on
            max_connections = 200
            shared_buffers = 32MB
            log_min_messages = warning

            """);
        // As root the file belongs to postgres; appending keeps its owner.
        await File.AppendAllTextAsync(Path.Combine(DataDirectory, "postgresql.conf"), settings, cancellationToken).ConfigureAwait(false);
    }

    private async Task PgCtlAsync(string[] arguments, CancellationToken cancellationToken)
    {
        try
        {
            await RunToolAsync("pg_ctl", arguments, cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex) when (File.Exists(LogFile))
        {
            var log = File.ReadLines(LogFile).TakeLast(20);
            throw new InvalidOperationException(ex.Message + "\nserver.log:\n" + string.Join('\n', log), ex);
        }
    }

    private Task RunToolAsync(string tool, string[] arguments, CancellationToken cancellationToken)
    {
        string path = Path.Combine(_binDirectory!, tool);
        return _runAsPostgres
            ? RunAsync("runuser", ["-u", SuperUser, "--", path, .. arguments], cancellationToken)
            : RunAsync(path, arguments, cancellationToken);
    }

    /// <summary>Runs a short-lived program with its output going to a file (pg_ctl start leaves the server running
    /// with inherited descriptors, so pipes would never reach end-of-file).</summary>
    private static async Task RunAsync(string fileName, string[] arguments, CancellationToken cancellationToken)
    {
        string output = Path.GetTempFileName();
        try
        {
            var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add("exec \"$@\" >\"$0\" 2>&1 </dev/null");
            info.ArgumentList.Add(output);
            info.ArgumentList.Add(fileName);
            foreach (var argument in arguments)
            {
                info.ArgumentList.Add(argument);
            }

            using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {fileName}.");
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            if (process.ExitCode != 0)
            {
                string text = await File.ReadAllTextAsync(output, CancellationToken.None).ConfigureAwait(false);
                throw new InvalidOperationException(
                    $"{fileName} {string.Join(' ', arguments)} exited with {process.ExitCode}: {text.Trim()}");
            }
        }
        finally
        {
            File.Delete(output);
        }
    }

    private static string? FindBinDirectory()
    {
        const string Root = "/usr/lib/postgresql";
        if (Directory.Exists(Root))
        {
            var newest = Directory.GetDirectories(Root)
                .Select(d => (Dir: Path.Combine(d, "bin"), Version: decimal.TryParse(Path.GetFileName(d), NumberStyles.Number, CultureInfo.InvariantCulture, out var v) ? v : -1))
                .Where(x => x.Version >= 0 && File.Exists(Path.Combine(x.Dir, "initdb")) && File.Exists(Path.Combine(x.Dir, "pg_ctl")))
                .OrderByDescending(x => x.Version)
                .FirstOrDefault();
            if (newest.Dir is not null)
            {
                return newest.Dir;
            }
        }

        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")))
            {
                // Follow a symlink (Debian's /usr/bin wrappers or /usr/local/bin links) to the real bin dir.
                var target = new FileInfo(Path.Combine(dir, "initdb")).ResolveLinkTarget(returnFinalTarget: true);
                return target is null ? dir : Path.GetDirectoryName(target.FullName);
            }
        }

        return null;
    }
}
