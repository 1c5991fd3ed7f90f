using System.Text.RegularExpressions;
using KmsFarm.Activation;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Tests;

/// <summary>The README's complete settings file is one the node accepts, and it says what the defaults are.</summary>
public sealed partial class ReadmeExampleTests
{
    [Fact]
    public async Task The_readme_settings_file_is_accepted_and_matches_the_defaults()
    {
        string readme = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "README.md"), TestContext.Current.CancellationToken);
        string json = JsonBlock().Match(readme).Groups[1].Value;
        Assert.Contains("\"KmsFarm\"", json, StringComparison.Ordinal);
        string path = Path.Combine(Path.GetTempPath(), "kmsfarm-readme-" + Guid.NewGuid().ToString("N") + ".json");
        await File.WriteAllTextAsync(path, json, TestContext.Current.CancellationToken);
        try
        {
            await using var app = NodeApplication.Create(["--config", path]);
            var services = app.Services;
            var listener = services.GetRequiredService<IOptions<KmsListenerOptions>>().Value;
            var defaults = new KmsListenerOptions();
            Assert.Equal(defaults.EffectiveKmsEndpoints, listener.EffectiveKmsEndpoints);
            Assert.Equal(
                (defaults.MaxConnections, defaults.MaxConnectionsPerSource, defaults.HandshakeTimeout, defaults.IdleTimeout,
                 defaults.ConnectionLifetime, defaults.RequestRate, defaults.RequestBurst),
                (listener.MaxConnections, listener.MaxConnectionsPerSource, listener.HandshakeTimeout, listener.IdleTimeout,
                 listener.ConnectionLifetime, listener.RequestRate, listener.RequestBurst));
            var store = services.GetRequiredService<IOptions<StoreOptions>>().Value;
            Assert.Equal((new StoreOptions().Location, TimeSpan.FromDays(90)), (store.Location, store.HistoryRetention));
            var policy = services.GetRequiredService<IOptions<ActivationPolicyOptions>>().Value;
            Assert.Equal((120, 10080, 0), (policy.ActivationIntervalMinutes, policy.RenewalIntervalMinutes, policy.GetMinimumReportedCount(KmsFarm.Protocol.Catalog.ProductGroup.Windows)));
            Assert.Equal(26100, services.GetRequiredService<IOptions<NodeOptions>>().Value.HostBuild);
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "KmsFarm.sln")))
            {
                return directory.FullName;
            }
        }

        throw new DirectoryNotFoundException("KmsFarm.sln not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("```json\\n(.*?)\\n```", RegexOptions.Singleline)]
    private static partial Regex JsonBlock();
}
