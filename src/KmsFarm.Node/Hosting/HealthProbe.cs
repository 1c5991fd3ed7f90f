using System.Net;
using KmsFarm.Node.Configuration;

namespace KmsFarm.Node.Hosting;

/// <summary><c>KmsFarm.Node probe [ready|live] [flags]</c>: asks a running node's own health endpoint and exits 0 when it
/// answers 200, else 1. It is the container image's HEALTHCHECK (the runtime image has neither a shell nor curl). The
/// HTTP endpoint comes from the same sources as the node's: appsettings.json beside the executable, the environment
/// (<c>KmsFarm__Listener__HttpEndpoint</c>) and the node's flags after the check name; a wildcard address is asked on
/// loopback.</summary>
public static class HealthProbe
{
    public const string Verb = "probe";

    /// <summary>Readiness itself answers within <see cref="StoreReadinessProbe.Budget"/> plus a little, whatever the store does.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    public static bool IsProbe(IReadOnlyList<string> args) => args.Count > 0 && args[0] == Verb;

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter output, TextWriter error)
    {
        var flags = args.Skip(1).ToList();
        string check = "ready";
        if (flags.Count > 0 && !flags[0].StartsWith("--", StringComparison.Ordinal))
        {
            check = flags[0];
            flags.RemoveAt(0);
        }

        if (check is not ("ready" or "live"))
        {
            await error.WriteLineAsync($"probe: unknown check '{check}'; expected ready or live.").ConfigureAwait(false);
            return 1;
        }

        Uri uri;
        try
        {
            uri = HealthUri(flags, check);
        }
        catch (NodeConfigurationException ex)
        {
            await error.WriteLineAsync("probe: " + ex.Message).ConfigureAwait(false);
            return 1;
        }

        using var http = new HttpClient { Timeout = Timeout };
        try
        {
            using var response = await http.GetAsync(uri).ConfigureAwait(false);
            string body = (await response.Content.ReadAsStringAsync().ConfigureAwait(false)).Trim();
            await output.WriteLineAsync($"{uri}: {(int)response.StatusCode} {body}").ConfigureAwait(false);
            return response.StatusCode == HttpStatusCode.OK ? 0 : 1;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            await error.WriteLineAsync($"{uri}: {ex.Message}").ConfigureAwait(false);
            return 1;
        }
    }

    /// <summary>The URL the probe asks: the configured HTTP endpoint, on loopback when it is a wildcard.</summary>
    public static Uri HealthUri(IReadOnlyList<string> flags, string check)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(AppContext.BaseDirectory, "appsettings.json"), optional: true)
            .AddEnvironmentVariables()
            .AddInMemoryCollection(CommandLineFlags.Translate(flags))
            .Build();
        string text = configuration[KmsListenerOptions.SectionName + ":HttpEndpoint"] ?? KmsListenerOptions.DefaultHttpEndpoint;
        var endPoint = EndPointParser.Parse(text, KmsListenerOptions.SectionName + ":HttpEndpoint (--http-endpoint)");
        var address = endPoint.Address.Equals(IPAddress.Any) ? IPAddress.Loopback
            : endPoint.Address.Equals(IPAddress.IPv6Any) ? IPAddress.IPv6Loopback
            : endPoint.Address;
        return new Uri($"http://{new IPEndPoint(address, endPoint.Port)}/healthz/{check}");
    }
}
