using System.Net;
using System.Net.Sockets;
using KmsFarm.Activation;
using KmsFarm.Node.Access;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Connections;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Node.Runtime;
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
        builder.Configuration.AddInMemoryCollection(CommandLineFlags.Translate(args));
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
        services.AddSingleton(sp => AccessListFactory.Create(sp.GetRequiredService<IOptions<AccessControlOptions>>().Value));
        services.AddSingleton<NodeRuntime>();
        services.AddSingleton<ActivationServiceBuilder>();
        services.AddSingleton<IActivationStoreFactory>(sp => new MeteredStoreFactory(
            new StoreFactory(sp.GetRequiredService<ILoggerFactory>(), sp.GetRequiredService<IOptions<StoreOptions>>().Value.Durability),
            sp.GetRequiredService<StoreMetrics>()));
        services.AddSingleton<ConnectionAdmission>();
        services.AddSingleton<KmsConnectionHandler>();
        services.AddSingleton<NodeEndpoints>();
        // Before the silo: its grains use the store this opens. Hosted services added here start before Kestrel (which
        // WebApplication adds last) and stop after it, so the silo outlives the connections it serves.
        services.AddHostedService<NodeStartupService>();
        services.AddHostedService<EffectiveOptionsLogger>();
        services.AddOptions<DnsPublishingOptions>().BindConfiguration(DnsPublishingOptions.SectionName).ValidateOnStart();
        services.AddSingleton<IValidateOptions<DnsPublishingOptions>, DnsPublishingOptionsValidator>();
        services.AddHostedService<DnsPublishingService>();
        builder.AddKmsFarmSilo(settings);

        builder.WebHost.UseSockets(sockets => sockets.CreateBoundListenSocket = CreateBoundListenSocket);
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

    /// <summary>Like Kestrel's default, but an IPv6 socket is V6ONLY: 0.0.0.0:1688 and [::]:1688 are two sockets, one per
    /// family, rather than a dual-mode socket that would collide with the IPv4 one.</summary>
    private static Socket CreateBoundListenSocket(EndPoint endPoint)
    {
        if (endPoint is not IPEndPoint ip)
        {
            return Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets.SocketTransportOptions.CreateDefaultBoundListenSocket(endPoint);
        }

        var socket = new Socket(ip.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (ip.AddressFamily == AddressFamily.InterNetworkV6)
            {
                socket.DualMode = false;
            }

            // Same as Kestrel: allow a quick restart on the same port (SO_REUSEADDR is what Unix needs for TIME_WAIT).
            if (!OperatingSystem.IsWindows())
            {
                socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            }

            socket.NoDelay = true;
            socket.Bind(ip);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
