using System.Diagnostics.CodeAnalysis;

namespace KmsFarm.DnsSrv;

/// <summary>Reads a TSIG key in BIND's key-file format, as <c>tsig-keygen -a hmac-sha256 NAME</c> writes it:
/// <code>
/// key "NAME" {
///     algorithm hmac-sha256;
///     secret "BASE64";
/// };
/// </code>
/// Comments (<c>#</c>, <c>//</c>, <c>/* */</c>) are skipped. The file must hold exactly one key. Error messages never
/// contain the secret.</summary>
public static class TsigKeyFile
{
    public static TsigKey Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"'{path}' cannot be read: {ex.Message}", ex);
        }

        return TryParse(text, out var key, out string? error) ? key : throw new FormatException($"'{path}' {error}");
    }

    public static bool TryParse(string text, [NotNullWhen(true)] out TsigKey? key, [NotNullWhen(false)] out string? error)
    {
        key = null;
        var tokens = Tokenize(text, out string? tokenError);
        if (tokens is null)
        {
            error = tokenError ?? "cannot be read";
            return false;
        }

        int i = 0;
        string? name = null, algorithm = null, secret = null;
        int keys = 0;
        while (i < tokens.Count)
        {
            if (!Expect(tokens, ref i, "key", out error)
                || !TakeValue(tokens, ref i, "the key name", out string? keyName, out error)
                || !Expect(tokens, ref i, "{", out error))
            {
                return false;
            }

            keys++;
            name = keyName;
            algorithm = secret = null;
            while (i < tokens.Count && tokens[i] != "}")
            {
                string statement = tokens[i++];
                if (!TakeValue(tokens, ref i, statement, out string? value, out error) || !Expect(tokens, ref i, ";", out error))
                {
                    return false;
                }

                switch (statement.ToLowerInvariant())
                {
                    case "algorithm":
                        algorithm = value;
                        break;
                    case "secret":
                        secret = value;
                        break;
                    default:
                        error = $"has an unknown statement '{statement}' in key \"{name}\"; expected algorithm and secret";
                        return false;
                }
            }

            if (!Expect(tokens, ref i, "}", out error) || !Expect(tokens, ref i, ";", out error))
            {
                return false;
            }
        }

        if (keys != 1)
        {
            error = keys == 0 ? "holds no key; expected key \"NAME\" { algorithm hmac-sha256; secret \"…\"; };" : $"holds {keys} keys; give a file with one";
            return false;
        }

        if (algorithm is null || secret is null)
        {
            error = $"key \"{name}\" has no {(algorithm is null ? "algorithm" : "secret")}";
            return false;
        }

        if (!TsigKey.SupportedAlgorithms.Contains(algorithm.ToLowerInvariant()))
        {
            error = $"key \"{name}\" uses algorithm '{algorithm}'; supported: {string.Join(", ", TsigKey.SupportedAlgorithms)} (tsig-keygen -a hmac-sha256 NAME)";
            return false;
        }

        byte[] bytes = new byte[secret.Length];
        if (!Convert.TryFromBase64String(secret, bytes, out int length) || length == 0)
        {
            error = $"key \"{name}\" has a secret that is not base64";
            return false;
        }

        try
        {
            key = new TsigKey(name!, algorithm, bytes.AsSpan(0, length));
        }
        catch (ArgumentException ex)
        {
            error = $"key \"{name}\": {ex.Message}";
            return false;
        }
        finally
        {
            Array.Clear(bytes);
        }

        error = null;
        return true;
    }

    private static bool Expect(List<string> tokens, ref int i, string expected, [NotNullWhen(false)] out string? error)
    {
        if (i < tokens.Count && string.Equals(tokens[i], expected, StringComparison.OrdinalIgnoreCase))
        {
            i++;
            error = null;
            return true;
        }

        error = i < tokens.Count ? $"has '{Shorten(tokens[i])}' where '{expected}' was expected" : $"ends where '{expected}' was expected";
        return false;
    }

    private static bool TakeValue(List<string> tokens, ref int i, string what, [NotNullWhen(true)] out string? value, [NotNullWhen(false)] out string? error)
    {
        if (i < tokens.Count && tokens[i] is not ("{" or "}" or ";"))
        {
            value = tokens[i++];
            error = null;
            return true;
        }

        value = null;
        error = $"has no value for {what}";
        return false;
    }

    /// <summary>Words, quoted strings (quotes removed), and the punctuation <c>{ } ;</c>.</summary>
    private static List<string>? Tokenize(string text, out string? error)
    {
        var tokens = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            char c = text[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (c == '#' || (c == '/' && i + 1 < text.Length && text[i + 1] == '/'))
            {
                while (i < text.Length && text[i] != '\n')
                {
                    i++;
                }
            }
            else if (c == '/' && i + 1 < text.Length && text[i + 1] == '*')
            {
                int end = text.IndexOf("*/", i + 2, StringComparison.Ordinal);
                if (end < 0)
                {
                    error = "has a /* comment that is never closed";
                    return null;
                }

                i = end + 2;
            }
            else if (c is '{' or '}' or ';')
            {
                tokens.Add(c.ToString());
                i++;
            }
            else if (c == '"')
            {
                int end = text.IndexOf('"', i + 1);
                if (end < 0)
                {
                    error = "has a quoted string that is never closed";
                    return null;
                }

                tokens.Add(text[(i + 1)..end]);
                i = end + 1;
            }
            else
            {
                int start = i;
                while (i < text.Length && !char.IsWhiteSpace(text[i]) && text[i] is not ('{' or '}' or ';' or '"'))
                {
                    i++;
                }

                tokens.Add(text[start..i]);
            }
        }

        error = null;
        return tokens;
    }

    /// <summary>Keeps error messages short and never quotes a long token (it could be the secret).</summary>
    private static string Shorten(string token) =>
        token.Length <= 20 ? token : string.Create(System.Globalization.CultureInfo.InvariantCulture, $"(a {token.Length}-character value)");
}
