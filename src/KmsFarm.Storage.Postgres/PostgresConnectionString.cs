using System.Data.Common;
using Npgsql;

namespace KmsFarm.Storage.Postgres;

/// <summary>Accepts a connection string in Npgsql's <c>Key=Value;…</c> form or as a URL,
/// <c>postgresql://user:password@host:port/database?key=value</c> (also <c>postgres://</c>, or just <c>//…</c> as left
/// after a <c>postgres:</c> store scheme), the form container platforms hand out.</summary>
public static class PostgresConnectionString
{
    /// <summary>Statements Npgsql prepares on each connection once they have been used twice, unless the connection string
    /// sets <c>Max Auto Prepare</c> itself. The store sends the same dozen statements in every transaction; unprepared,
    /// PostgreSQL parses and plans each one every time (on a 2-core farm that doubled its CPU per activation).</summary>
    public const int DefaultMaxAutoPrepare = 32;

    /// <summary><see cref="Normalize"/>, then the store's defaults for settings the string leaves out.</summary>
    public static string WithStoreDefaults(string value)
    {
        string normalized = Normalize(value);
        var builder = new NpgsqlConnectionStringBuilder(normalized);
        // Npgsql writes set keys under their canonical names, so a generic parse tells "set to 0" from "not set".
        if (!new DbConnectionStringBuilder { ConnectionString = normalized }.ContainsKey("Max Auto Prepare"))
        {
            builder.MaxAutoPrepare = DefaultMaxAutoPrepare;
        }

        return builder.ConnectionString;
    }

    public static string Normalize(string value)
    {
        string text = value.Trim();
        string? rest = text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) ? text["postgresql:".Length..]
            : text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) ? text["postgres:".Length..]
            : text.StartsWith("//", StringComparison.Ordinal) ? text
            : null;
        if (rest is null)
        {
            return new NpgsqlConnectionStringBuilder(text).ConnectionString;
        }

        if (!Uri.TryCreate("postgresql:" + rest, UriKind.Absolute, out var uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException("the URL is not of the form postgresql://user:password@host:port/database.");
        }

        var builder = new NpgsqlConnectionStringBuilder { Host = uri.Host.Trim('[', ']') };
        if (uri.Port > 0)
        {
            builder.Port = uri.Port;
        }

        if (uri.UserInfo.Length > 0)
        {
            string[] user = uri.UserInfo.Split(':', 2);
            builder.Username = Uri.UnescapeDataString(user[0]);
            if (user.Length == 2)
            {
                builder.Password = Uri.UnescapeDataString(user[1]);
            }
        }

        string database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length > 0)
        {
            builder.Database = database;
        }

        foreach (string pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            string[] kv = pair.Split('=', 2);
            string key = Uri.UnescapeDataString(kv[0]);
            builder[key.Equals("sslmode", StringComparison.OrdinalIgnoreCase) ? "SSL Mode" : key] = kv.Length == 2 ? Uri.UnescapeDataString(kv[1]) : "";
        }

        return builder.ConnectionString;
    }
}
