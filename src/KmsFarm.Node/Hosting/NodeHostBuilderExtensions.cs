using System.Net;
using KmsFarm.Activation;
using KmsFarm.Node.Access;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Connections;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Node.Runtime;
using KmsFarm.Node.Status;
using KmsFarm.Node.Storage;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Hosting;

/// <summary>Registers everything the node needs on a <see cref="WebApplicationBuilder"/>.</summary>
public static class NodeHostBuilderExtensions
{
    /// <summary>Adds the command-line flags as the highest-priority configuration source, validates every setting (throwing
    /// <see cref="NodeConfigurationException"/> naming the setting), registers the services and the silo, and configures
    /// Kestrel.</summary>
    public static WebApplicationBuilder AddKmsFarmNode(this WebApplicationBuilder builder, IReadOnlyList<string> args)
    {
        NodeConfigurationSources.Add(builder.Configuration, CommandLineFlags.Translate(args));
        var settings = NodeSettings.BindAndValidate(builder.Configuration);
        DnsPublishingOptionsValidator.BindAndValidate(builder.Configuration);

        var services = builder.Services;
        services.AddOptions<KmsListenerOptions>().BindConfiguration(KmsListenerOptions.SectionName).ValidateOnStart();
        services.AddOptions<AccessControlOptions>().BindConfiguration(AccessControlOptions.SectionName).ValidateOnStart();
        services.AddOptions<StoreOptions>().BindConfiguration(StoreOptions.SectionName).ValidateOnStart();
        services.AddOptions<NodeOptions>().BindConfiguration(NodeOptions.SectionName).ValidateOnStart();
        services.AddOptions<FarmClusterOptions>().BindConfiguration(FarmClusterOptions.SectionName).ValidateOnStart();
        services.AddOptions<ActivationPolicyOptions>().BindConfiguration(NodeSettings.ActivationSectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ActivationPolicyOptions>, ActivationPolicyOptionsValidator>();
        services.AddSingleton(settings.Catalog);
        services.AddSingleton<NodeOptionsValidator>();
        services.AddSingleton<IValidateOptions<KmsListenerOptions>>(sp => sp.GetRequiredService<NodeOptionsValidator>());
        services.AddSingleton<IValidateOptions<AccessControlOptions>>(sp => sp.GetRequiredService<NodeOptionsValidator>());
        services.AddSingleton<IValidateOptions<StoreOptions>>(sp => sp.GetRequiredService<NodeOptionsValidator>());
        services.AddSingleton<IValidateOptions<NodeOptions>>(sp => sp.GetRequiredService<NodeOptionsValidator>());
        services.AddSingleton<IValidateOptions<FarmClusterOptions>>(sp => sp.GetRequiredService<NodeOptionsValidator>());

        services.AddSingleton(TimeProvider.System);
        builder.AddKmsFarmTelemetry(settings);
        builder.AddKmsFarmStatus();
        services.AddSingleton(sp => AccessListFactory.Create(sp.GetRequiredService<IOptions<AccessControlOptions>>().Value));
        services.AddSingleton<NodeRuntime>();
        services.AddSingleton<ActivationServiceBuilder>();
        services.AddSingleton<IActivationStoreFactory>(sp => new MeteredStoreFactory(
            new StoreFactory(sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<IOptions<StoreOptions>>().Value.Durability),
            sp.GetRequiredService<StoreMetrics>()));
        services.AddSingleton<ConnectionAdmission>();
        services.AddSingleton<KmsConnectionHandler>();
        services.AddSingleton<NodeEndpoints>();
        services.AddSingleton<StoreReadinessProbe>();
        // Before the silo: its grains use the store this opens. Hosted services added here start before Kestrel (which
        // WebApplication adds last) and stop after it, so the silo outlives the connections it serves.
        services.AddHostedService<ListenerPreflight>();
        services.AddHostedService<NodeStartupService>();
        services.AddHostedService<EffectiveOptionsLogger>();
        services.AddSingleton(sp =>
        {
            var store = sp.GetRequiredService<IOptions<StoreOptions>>().Value;
            return new HistoryRetentionPolicy { Retention = store.HistoryRetention, Interval = store.HistoryPurgeInterval };
        });
        services.AddHostedService<HistoryRetentionStarter>();
        services.AddOptions<DnsPublishingOptions>().BindConfiguration(DnsPublishingOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DnsPublishingOptions>, DnsPublishingOptionsValidator>();
        services.AddHostedService<DnsPublishingService>();
        builder.AddKmsFarmSilo(settings);

        services.AddSingleton(settings);
        var listeners = settings.Listeners;
        builder.WebHost.UseSockets(sockets => sockets.CreateBoundListenSocket = endPoint => endPoint is IPEndPoint ip
            ? ListenSockets.Bind(ip, listeners.FirstOrDefault(l => l.EndPoint.Equals(ip))?.Setting ?? "listener")
            : Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint));
        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            var endpoints = kestrel.ApplicationServices.GetRequiredService<NodeEndpoints>();
            foreach (var endPoint in settings.KmsEndPoints)
            {
                kestrel.Listen(endPoint, listen =>
                {
                    listen.UseConnectionHandler<KmsConnectionHandler>();
                    endpoints.Kms.Add(listen);
                });
            }

            kestrel.Listen(settings.HttpEndPoint, listen => endpoints.Http = listen);
        });

        return builder;
    }
}
