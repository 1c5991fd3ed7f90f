using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace KmsFarm.Storage.Postgres;

/// <summary>The versioned schema scripts embedded in this assembly (Migrations/NNNN_name.sql), applied in order inside one
/// transaction that first takes a transaction-level advisory lock, so nodes starting together apply each script once and
/// wait for each other. Each applied script's SHA-256 is kept; a script edited after it shipped stops start-up.</summary>
internal static class PostgresMigrations
{
    /// <summary>pg_advisory_xact_lock key for schema changes ("KMSF" + 1).</summary>
    private const long LockKey = 0x4B4D_5346_0000_0001;

    private const string Prefix = "Migrations/";

    public static IReadOnlyList<Migration> All { get; } = Load();

    public static int LatestVersion => All[^1].Version;

    /// <summary>Brings the schema up to date and returns the database's schema version.</summary>
    public static async Task<int> ApplyAsync(NpgsqlDataSource dataSource, ILogger logger, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

        await using (var batch = new NpgsqlBatch(connection, transaction))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock($1)") { Parameters = { new() { Value = LockKey } } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version  integer     PRIMARY KEY,
                    name     text        NOT NULL,
                    sha256   text        NOT NULL,
                    applied  timestamptz NOT NULL DEFAULT now())
                """));
            await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var applied = new Dictionary<int, string>();
        await using (var select = new NpgsqlCommand("SELECT version, sha256 FROM schema_migrations", connection, transaction))
        await using (var reader = await select.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                applied[reader.GetInt32(0)] = reader.GetString(1);
            }
        }

        foreach (var migration in All)
        {
            if (applied.TryGetValue(migration.Version, out var sha))
            {
                if (!string.Equals(sha, migration.Sha256, StringComparison.OrdinalIgnoreCase))
                {
                    throw new InvalidOperationException(
                        $"Schema migration {migration.Version} ({migration.Name}) differs from the one applied to this database.");
                }

                continue;
            }

#pragma warning disable CA2100 // The script is an embedded resource of this assembly, not input.
            await using (var script = new NpgsqlCommand(migration.Sql, connection, transaction))
#pragma warning restore CA2100
            {
                await script.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await using (var record = new NpgsqlCommand(
                "INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)", connection, transaction))
            {
                record.Parameters.Add(new() { Value = migration.Version });
                record.Parameters.Add(new() { Value = migration.Name });
                record.Parameters.Add(new() { Value = migration.Sha256 });
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            PostgresStoreLog.MigrationApplied(logger, migration.Version, migration.Name);
            applied[migration.Version] = migration.Sha256;
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        int version = applied.Keys.Max();
        if (version > LatestVersion)
        {
            PostgresStoreLog.SchemaNewer(logger, version, LatestVersion);
        }

        return version;
    }

    private static Migration[] Load()
    {
        var assembly = typeof(PostgresMigrations).Assembly;
        var migrations = new List<Migration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(Prefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            string name = resource[Prefix.Length..^4];
            int underscore = name.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(name[..underscore], NumberStyles.None, CultureInfo.InvariantCulture, out int version))
            {
                throw new InvalidOperationException($"Embedded migration '{resource}' is not named NNNN_name.sql.");
            }

            using var stream = assembly.GetManifestResourceStream(resource)!;
            using var reader = new StreamReader(stream);
            string sql = reader.ReadToEnd().ReplaceLineEndings("\n");
            string sha = Convert.ToHexStringLower(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(sql)));
            migrations.Add(new Migration(version, name[(underscore + 1)..], sql, sha));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (int i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"Embedded migrations must be numbered 1, 2, 3…; found {migrations[i].Version} at {i + 1}.");
            }
        }

        return migrations.Count > 0 ? [.. migrations] : throw new InvalidOperationException("No embedded schema migrations.");
    }

    internal sealed record Migration(int Version, string Name, string Sql, string Sha256);
}
