using System.Net.Sockets;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace KmsFarm.Node.Storage;

/// <summary>How start-up treats a failure to open the store: a database server that cannot be reached (down, starting,
/// refusing connections for now, no answer in time) is waited for; a database that does not exist, credentials the
/// server refuses, or a file SQLite cannot use are the operator's to fix, and stop start-up with one line.</summary>
internal static class StoreStartupFailure
{
    /// <summary>Null when <paramref name="exception"/> is worth waiting out (the reason is then in
    /// <paramref name="transientReason"/>); otherwise the one-line reason start-up stops for. Exceptions this does not
    /// know are neither (both null): a bug, reported whole.</summary>
    public static string? Classify(Exception exception, out string? transientReason)
    {
        transientReason = null;
        switch (exception)
        {
            case PostgresException pg when pg.SqlState == PostgresErrorCodes.InvalidCatalogName:
                return $"the database server has no database named in the connection string ({pg.MessageText}); create it, or name another";
            case PostgresException pg when pg.SqlState is PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification:
                return $"the database server refused the credentials ({pg.MessageText}); check Username and Password";
            case PostgresException pg when pg.SqlState is PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections
                or PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown:
                transientReason = pg.MessageText;
                return null;
            case PostgresException pg:
                return $"the database refused the node's schema or identity ({pg.SqlState}: {pg.MessageText})";
            case NpgsqlException npgsql:
                transientReason = Innermost(npgsql);
                return null;
            case SocketException or TimeoutException:
                transientReason = exception.Message;
                return null;
            case SqliteException sqlite:
                return $"SQLite cannot use the file ({sqlite.Message})";
            case IOException or UnauthorizedAccessException:
                return exception.Message;
            default:
                return null;
        }
    }

    private static string Innermost(Exception exception)
    {
        var inner = exception;
        while (inner.InnerException is not null)
        {
            inner = inner.InnerException;
        }

        return inner == exception ? exception.Message : $"{exception.Message} {inner.Message}";
    }
}
