using Microsoft.Extensions.Primitives;

namespace KmsFarm.Node.Status;

/// <summary>Enforces the admin token on endpoints marked <see cref="AdminOnly"/> (the <c>/api</c> routes and the
/// <c>/status</c> page) when one is configured: a request passes with <c>Authorization: Bearer TOKEN</c> or with the status
/// page's login cookie. Others get 401 (the page: its login form). <c>/metrics</c> and <c>/healthz/*</c> are not marked
/// and stay open for Prometheus and the orchestrator.</summary>
public static class AdminAccess
{
    /// <summary>The status page's login cookie (HttpOnly, SameSite=Strict).</summary>
    public const string CookieName = "kmsfarm-admin";

    /// <summary>Adds the check after routing (so it sees which endpoint a request reached) and before the endpoint runs.</summary>
    public static WebApplication UseKmsFarmAdminAccess(this WebApplication app)
    {
        var token = app.Services.GetRequiredService<AdminToken>();
        if (!token.IsRequired)
        {
            return app;
        }

        app.Use(async (context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<AdminOnly>() is null || IsAuthorized(context.Request, token))
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.CacheControl = "no-store";
            if (context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
            {
                context.Response.Headers.WWWAuthenticate = "Bearer realm=\"kmsfarm\"";
                context.Response.ContentType = "text/plain; charset=utf-8";
                await context.Response.WriteAsync("unauthorized: this node requires its admin token (Authorization: Bearer TOKEN)\n").ConfigureAwait(false);
            }
            else
            {
                await StatusPage.WriteLoginAsync(context, failed: false).ConfigureAwait(false);
            }
        });
        return app;
    }

    internal static bool IsAuthorized(HttpRequest request, AdminToken token)
    {
        StringValues authorization = request.Headers.Authorization;
        foreach (string? value in authorization)
        {
            if (value is not null && value.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && token.Matches(value["Bearer ".Length..].Trim()))
            {
                return true;
            }
        }

        return token.MatchesCookie(request.Cookies[CookieName]);
    }
}
