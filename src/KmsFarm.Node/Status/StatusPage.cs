using System.Text;

namespace KmsFarm.Node.Status;

/// <summary>The node's read-only HTML status page, <c>GET /status</c>: a static page whose script reads
/// <c>/api/status</c> and <c>/api/activations</c> from the same node and refreshes every 5 s. No external asset (its
/// script and style sheet are served by the node, under a Content-Security-Policy that allows nothing else). With an admin
/// token configured the page answers 401 with a login form; <c>POST /status/login</c> with the right token sets an
/// HttpOnly, SameSite=Strict cookie that stands for it.</summary>
public static class StatusPage
{
    public const string Path = "/status";

    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; form-action 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'";

    private static readonly Lazy<string> Page = new(() => Read("status.html"));
    private static readonly Lazy<string> Script = new(() => Read("status.js"));
    private static readonly Lazy<string> Style = new(() => Read("status.css"));
    private static readonly Lazy<string> Login = new(() => Read("login.html"));
    private static readonly Lazy<string> Icon = new(() => Read("favicon.svg"));

    public static IEndpointRouteBuilder MapKmsFarmStatusPage(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/", () => Results.Redirect(Path));
        endpoints.MapGet(Path, (HttpContext context) => Write(context, Page.Value, "text/html; charset=utf-8")).WithMetadata(AdminOnly.Instance);
        // Code and style only, no data: open, so the login form is styled too.
        endpoints.MapGet(Path + "/status.js", (HttpContext context) => Write(context, Script.Value, "text/javascript; charset=utf-8"));
        endpoints.MapGet(Path + "/status.css", (HttpContext context) => Write(context, Style.Value, "text/css; charset=utf-8"));
        endpoints.MapGet(Path + "/favicon.svg", (HttpContext context) => Write(context, Icon.Value, "image/svg+xml"));
        endpoints.MapPost(Path + "/login", (Delegate)LogInAsync);
        return endpoints;
    }

    internal static Task WriteLoginAsync(HttpContext context, bool failed) => Write(context,
        Login.Value.Replace("<!--message-->", failed ? "<p id=\"error\">That is not this node's admin token.</p>" : string.Empty, StringComparison.Ordinal),
        "text/html; charset=utf-8");

    private static async Task LogInAsync(HttpContext context)
    {
        var token = context.RequestServices.GetRequiredService<AdminToken>();
        string? presented = null;
        if (context.Request.HasFormContentType)
        {
            var form = await context.Request.ReadFormAsync(context.RequestAborted).ConfigureAwait(false);
            presented = form["token"].ToString().Trim();
        }

        if (!token.IsRequired || token.Matches(presented))
        {
            if (token.IsRequired)
            {
                context.Response.Cookies.Append(AdminAccess.CookieName, token.CookieValue, new CookieOptions
                {
                    HttpOnly = true,
                    SameSite = SameSiteMode.Strict,
                    Path = "/",
                    Secure = context.Request.IsHttps,
                });
            }

            context.Response.StatusCode = StatusCodes.Status303SeeOther;
            context.Response.Headers.Location = Path;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        await WriteLoginAsync(context, failed: true).ConfigureAwait(false);
    }

    private static Task Write(HttpContext context, string content, string contentType)
    {
        var headers = context.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";
        headers.CacheControl = "no-store";
        context.Response.ContentType = contentType;
        return context.Response.WriteAsync(content, Encoding.UTF8, context.RequestAborted);
    }

    private static string Read(string name)
    {
        var assembly = typeof(StatusPage).Assembly;
        using var stream = assembly.GetManifestResourceStream("KmsFarm.Node.Status.Page." + name)
            ?? throw new InvalidOperationException($"The status page's {name} is not embedded in {assembly.GetName().Name}.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }
}
