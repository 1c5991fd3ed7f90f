using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;

namespace KmsFarm.Client.Cli;

/// <summary><c>status</c>: a node's <c>GET /api/status</c> (the farm as <c>slmgr /dlv</c> shows a KMS host) as tables.</summary>
internal sealed class StatusCommand
{
    /// <summary>The node's default HTTP port (<c>--http-endpoint</c>).</summary>
    public const int DefaultHttpPort = 8688;

    public StatusCommand()
    {
        Host.CustomParser = result =>
        {
            string text = result.Tokens.Count > 0 ? result.Tokens[0].Value : string.Empty;
            if (TryParseBase(text, out var uri))
            {
                return uri;
            }

            result.AddError($"--host: '{text}' is not a node's HTTP endpoint (HOST:PORT or http://HOST:PORT).");
            return null;
        };
        Activations.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > 500)
            {
                r.AddError("--activations must be between 0 and 500.");
            }
        });
        Command = new Command("status", "Show a node's view of the farm (GET /api/status): per product group count, threshold, ePID, " +
            "intervals and requests, the farm's totals and silos.")
        {
            Host, TokenFile, Activations, Json, Timeout,
        };
        Command.SetAction(RunAsync);
    }

    public Command Command { get; }

    public Option<Uri> Host { get; } = new("--host")
    {
        Description = $"The node's HTTP endpoint, HOST:PORT (port {DefaultHttpPort} when omitted) or http://HOST:PORT.",
        DefaultValueFactory = _ => new Uri($"http://127.0.0.1:{DefaultHttpPort}/"),
    };

    public Option<FileInfo> TokenFile { get; } = new("--token-file")
    {
        Description = "File holding the node's admin token (its --admin-token-file), sent as Authorization: Bearer.",
        HelpName = "FILE",
    };

    public Option<int> Activations { get; } = new("--activations")
    {
        Description = "Also list the farm's latest N answered requests (GET /api/activations).",
        HelpName = "N",
        DefaultValueFactory = _ => 0,
    };

    public Option<bool> Json { get; } = new("--json") { Description = "Print the node's JSON as it is." };

    public Option<double> Timeout { get; } = new("--timeout") { Description = "HTTP timeout, seconds.", DefaultValueFactory = _ => 10 };

    internal static bool TryParseBase(string text, out Uri uri)
    {
        uri = null!;
        text = text.Trim();
        if (text.Length == 0)
        {
            return false;
        }

        bool hasScheme = text.Contains("://", StringComparison.Ordinal);
        if (!Uri.TryCreate(hasScheme ? text : "http://" + text, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https")
            || parsed.Host.Length == 0)
        {
            return false;
        }

        var builder = new UriBuilder(parsed) { Path = "/", Query = string.Empty, Fragment = string.Empty };
        if (!hasScheme && parsed.IsDefaultPort && !text.EndsWith(":80", StringComparison.Ordinal))
        {
            builder.Port = DefaultHttpPort;
        }

        uri = builder.Uri;
        return true;
    }

    private async Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        var baseUri = parse.GetValue(Host)!;
        using var http = new HttpClient { BaseAddress = baseUri, Timeout = TimeSpan.FromSeconds(parse.GetValue(Timeout)) };
        if (parse.GetValue(TokenFile) is { } tokenFile)
        {
            string token;
            try
            {
                token = (await File.ReadAllTextAsync(tokenFile.FullName, cancellationToken).ConfigureAwait(false)).Trim();
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"--token-file: {ex.Message}").ConfigureAwait(false);
                return ExitCodes.Usage;
            }

            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        try
        {
            using var response = await http.GetAsync("api/status", cancellationToken).ConfigureAwait(false);
            if (response.StatusCode == HttpStatusCode.Unauthorized)
            {
                await error.WriteLineAsync($"{baseUri} requires its admin token: give --token-file (the node's --admin-token-file).").ConfigureAwait(false);
                return ExitCodes.Unauthorized;
            }

            string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                await error.WriteLineAsync($"{baseUri}api/status answered {(int)response.StatusCode}: {body.Trim()}").ConfigureAwait(false);
                return ExitCodes.NetworkError;
            }

            var status = JsonSerializer.Deserialize<FarmStatus>(body, JsonSerializerOptions.Web)
                ?? throw new JsonException("The node answered null.");
            FarmActivationPage? activations = null;
            int latest = parse.GetValue(Activations);
            if (latest > 0)
            {
                activations = await http.GetFromJsonAsync<FarmActivationPage>($"api/activations?limit={latest}", JsonSerializerOptions.Web, cancellationToken)
                    .ConfigureAwait(false);
            }

            if (parse.GetValue(Json))
            {
                await output.WriteLineAsync(body).ConfigureAwait(false);
                return ExitCodes.Success;
            }

            StatusTables.Write(TerminalOutput.Create(output), status, activations);
            return ExitCodes.Success;
        }
        catch (Exception ex) when (ex is HttpRequestException or SocketException or TaskCanceledException or JsonException
            && !cancellationToken.IsCancellationRequested)
        {
            await error.WriteLineAsync($"{baseUri}: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.NetworkError;
        }
    }
}
