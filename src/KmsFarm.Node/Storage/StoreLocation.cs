using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace KmsFarm.Node.Storage;

/// <summary>The parsed <c>--store</c> value: a scheme and what follows it.</summary>
public sealed partial record StoreLocation(StoreKind Kind, string Target)
{
    /// <summary>Parses a value already checked by <see cref="TryParse"/>.</summary>
    public static StoreLocation Parse(string? text) =>
        TryParse(text, out var location, out string? error) ? location : throw new FormatException($"Store location {error}.");

    public static bool TryParse(string? text, [NotNullWhen(true)] out StoreLocation? location, [NotNullWhen(false)] out string? error)
    {
        location = null;
        int colon = text?.IndexOf(':', StringComparison.Ordinal) ?? -1;
        if (text is null || colon <= 0)
        {
            error = $"'{text}' has no scheme; expected sqlite:PATH or postgres:CONNECTION-STRING";
            return false;
        }

        string scheme = text[..colon].ToLowerInvariant();
        string target = text[(colon + 1)..];
        StoreKind? kind = scheme switch
        {
            "sqlite" => StoreKind.Sqlite,
            "postgres" or "postgresql" => StoreKind.Postgres,
            _ => null,
        };
        if (kind is null)
        {
            error = $"has the unknown scheme '{scheme}'; expected sqlite:PATH or postgres:CONNECTION-STRING";
            return false;
        }

        if (string.IsNullOrWhiteSpace(target))
        {
            error = $"'{scheme}:' needs a {(kind == StoreKind.Sqlite ? "file path" : "connection string")} after the colon";
            return false;
        }

        // A relative SQLite path is relative to the working directory, resolved once here so every log line shows the file.
        location = new StoreLocation(kind.Value, kind == StoreKind.Sqlite ? Path.GetFullPath(target) : target);
        error = null;
        return true;
    }

    /// <summary>For logs: the PostgreSQL password (Password=… / pwd=… / //user:password@) replaced with ***.</summary>
    public string Redacted => Kind == StoreKind.Sqlite
        ? "sqlite:" + Target
        : "postgres:" + UriPasswordPattern().Replace(PasswordPattern().Replace(Target, "$1***"), "$1***$3");

    public override string ToString() => Redacted;

    [GeneratedRegex(@"((?:^|;)\s*(?:password|pwd)\s*=\s*)(""[^""]*""|'[^']*'|[^;]*)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordPattern();

    /// <summary>The password of a URI form, postgres://user:password@host/db.</summary>
    [GeneratedRegex(@"^(//[^:/@]*:)([^@]*)(@)", RegexOptions.CultureInvariant)]
    private static partial Regex UriPasswordPattern();
}

public enum StoreKind
{
    Sqlite,
    Postgres,
}
