using System.Globalization;
using System.Reflection;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Storage.Sqlite;

/// <summary>Applies the embedded <c>Migrations/NNNN_name.sql</c> scripts in version order, each in its own
/// <c>BEGIN IMMEDIATE</c> transaction together with its <c>schema_migrations</c> row, and refuses a file whose schema is
/// newer than this build.</summary>
internal static class SqliteMigrator
{
    private const string ResourcePrefix = "KmsFarm.Storage.Sqlite.Migrations.";

    public static IReadOnlyList<SqliteMigration> Migrations { get; } = LoadEmbedded();

    public static int LatestVersion => Migrations[^1].Version;

    /// <summary>Brings the schema of <paramref name="connection"/> to <see cref="LatestVersion"/> and returns it.</summary>
    public static async Task<int> MigrateAsync(SqliteConnection connection, string path, ILogger logger, CancellationToken cancellationToken)
    {
        using (var create = connection.CreateCommand())
        {
            create.CommandText =
                "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL) STRICT";
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        int current = await ReadVersionAsync(connection, null, cancellationToken).ConfigureAwait(false);
        ThrowIfNewer(current, path);
        foreach (var migration in Migrations)
        {
            if (migration.Version <= current)
            {
                continue;
            }

            using var transaction = connection.BeginTransaction(deferred: false);

            // Read again under the write lock: another process may have migrated the file meanwhile.
            current = await ReadVersionAsync(connection, transaction, cancellationToken).ConfigureAwait(false);
            ThrowIfNewer(current, path);
            if (migration.Version <= current)
            {
                continue;
            }

            using (var script = connection.CreateCommand())
            {
                script.Transaction = transaction;
                script.CommandText = migration.Sql;
                await script.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            using (var record = connection.CreateCommand())
            {
                record.Transaction = transaction;
                record.CommandText = "INSERT INTO schema_migrations (version, applied_at) VALUES ($version, $appliedAt)";
                record.Parameters.AddWithValue("$version", migration.Version);
                record.Parameters.AddWithValue("$appliedAt", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture));
                await record.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            current = migration.Version;
            SqliteStoreLog.MigrationApplied(logger, migration.Version, migration.Name, path);
        }

        return current;
    }

    private static async Task<int> ReadVersionAsync(
        SqliteConnection connection, SqliteTransaction? transaction, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = "SELECT coalesce(max(version), 0) FROM schema_migrations";
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false), CultureInfo.InvariantCulture);
    }

    private static void ThrowIfNewer(int current, string path)
    {
        if (current > LatestVersion)
        {
            throw new InvalidOperationException(
                $"The database '{path}' has schema version {current}, but this KmsFarm build knows schema versions up to " +
                $"{LatestVersion}. It was written by a newer KmsFarm: run that version, or set " +
                $"{SqliteStoreOptions.SectionName}:{nameof(SqliteStoreOptions.Path)} to another file.");
        }
    }

    private static SqliteMigration[] LoadEmbedded()
    {
        var assembly = typeof(SqliteMigrator).Assembly;
        var migrations = new List<SqliteMigration>();
        foreach (var resource in assembly.GetManifestResourceNames())
        {
            if (!resource.StartsWith(ResourcePrefix, StringComparison.Ordinal) || !resource.EndsWith(".sql", StringComparison.Ordinal))
            {
                continue;
            }

            string name = resource[ResourcePrefix.Length..^".sql".Length];
            int underscore = name.IndexOf('_', StringComparison.Ordinal);
            if (underscore <= 0 || !int.TryParse(name.AsSpan(0, underscore), NumberStyles.None, CultureInfo.InvariantCulture, out int version))
            {
                throw new InvalidOperationException($"Migration script '{name}.sql' is not named NNNN_description.sql.");
            }

            migrations.Add(new SqliteMigration(version, name, ReadResource(assembly, resource)));
        }

        migrations.Sort((a, b) => a.Version.CompareTo(b.Version));
        for (int i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"Migration versions must run 1, 2, 3… without gaps; found {migrations[i].Name}.");
            }
        }

        return migrations.Count > 0 ? [.. migrations] : throw new InvalidOperationException("No embedded migration scripts.");
    }

    private static string ReadResource(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
