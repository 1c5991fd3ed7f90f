using KmsFarm.Node.Configuration;
using KmsFarm.Node.Hosting;

namespace KmsFarm.Node.Status;

/// <summary>Registers the status API's services and the admin token, and maps the API and the status page.</summary>
public static class StatusHostingExtensions
{
    /// <summary>Reads <c>KmsFarm:Api</c> (the admin token file is read now, so a missing or empty file stops start-up with
    /// a message naming the setting) and checks <c>--log-format</c>.</summary>
    internal static IHostApplicationBuilder AddKmsFarmStatus(this IHostApplicationBuilder builder)
    {
        if (LogFormat.Check(builder.Configuration) is { } failure)
        {
            throw new NodeConfigurationException(failure);
        }

        LogFormat.Apply(builder);

        var options = new ApiOptions();
        builder.Configuration.GetSection(ApiOptions.SectionName).Bind(options);
        builder.Services.AddSingleton(AdminToken.Load(options));
        builder.Services.AddSingleton<FarmStatusReader>();
        return builder;
    }

    /// <summary>The admin check, <c>/api/*</c> and <c>/status</c>.</summary>
    internal static WebApplication MapKmsFarmStatus(this WebApplication app)
    {
        app.UseKmsFarmAdminAccess();
        app.MapKmsFarmApi();
        app.MapKmsFarmStatusPage();
        return app;
    }
}
