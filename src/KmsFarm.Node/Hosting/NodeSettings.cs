using System.Net;
using KmsFarm.Node.Configuration;

namespace KmsFarm.Node.Hosting;

/// <summary>The settings the host needs before the container exists (listen addresses), bound and validated eagerly so
/// a bad value stops start-up with a message naming it rather than failing inside Kestrel.</summary>
internal sealed record NodeSettings(IReadOnlyList<IPEndPoint> KmsEndPoints, IPEndPoint HttpEndPoint)
{
    public static NodeSettings BindAndValidate(IConfiguration configuration)
    {
        var listener = Bind<KmsListenerOptions>(configuration, KmsListenerOptions.SectionName);
        var access = Bind<AccessControlOptions>(configuration, AccessControlOptions.SectionName);
        var store = Bind<StoreOptions>(configuration, StoreOptions.SectionName);
        var node = Bind<NodeOptions>(configuration, NodeOptions.SectionName);
        var failures = NodeOptionsValidator.Check(listener)
            .Concat(NodeOptionsValidator.Check(access))
            .Concat(NodeOptionsValidator.Check(store))
            .Concat(NodeOptionsValidator.Check(node))
            .ToList();
        if (failures.Count > 0)
        {
            throw new NodeConfigurationException(failures);
        }

        var kms = listener.EffectiveKmsEndpoints.Select((e, i) => EndPointParser.Parse(e, $"{KmsListenerOptions.SectionName}:KmsEndpoints:{i}")).ToArray();
        return new NodeSettings(kms, EndPointParser.Parse(listener.HttpEndpoint, $"{KmsListenerOptions.SectionName}:HttpEndpoint"));
    }

    private static T Bind<T>(IConfiguration configuration, string section)
        where T : new()
    {
        var options = new T();
        try
        {
            configuration.GetSection(section).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            // The binder's message names the key and the value it could not convert (e.g. a non-numeric MaxConnections).
            throw new NodeConfigurationException($"{section}: {ex.Message}", ex);
        }

        return options;
    }
}
