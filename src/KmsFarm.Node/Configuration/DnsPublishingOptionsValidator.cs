using System.Globalization;
using KmsFarm.DnsSrv;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Configuration;

/// <summary>Start-up checks of <see cref="DnsPublishingOptions"/>; every message names the key and its flag. The key
/// file is read here, so a missing or malformed one stops start-up rather than failing every publication.</summary>
public sealed class DnsPublishingOptionsValidator : IValidateOptions<DnsPublishingOptions>
{
    private const string S = DnsPublishingOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, DnsPublishingOptions options)
    {
        var failures = Check(options).ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Binds the section and throws <see cref="NodeConfigurationException"/> listing every bad setting, so the
    /// node stops before it builds anything.</summary>
    public static DnsPublishingOptions BindAndValidate(IConfiguration configuration)
    {
        var options = new DnsPublishingOptions();
        try
        {
            configuration.GetSection(S).Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            throw new NodeConfigurationException($"{S}: {ex.Message}", ex);
        }

        var failures = Check(options).ToList();
        return failures.Count == 0 ? options : throw new NodeConfigurationException(failures);
    }

    public static IEnumerable<string> Check(DnsPublishingOptions options)
    {
        var domains = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < options.Publish.Count; i++)
        {
            if (!DnsPublishEntry.TryParse(options.Publish[i], out var entry, out string? error))
            {
                yield return $"{S}:Publish:{I(i)} (--dns-publish) {error}.";
            }
            else if (!domains.Add(entry.Domain))
            {
                yield return $"{S}:Publish:{I(i)} (--dns-publish) names domain {entry.Domain} a second time.";
            }
        }

        if (!string.IsNullOrWhiteSpace(options.Server))
        {
            if (!DnsServerAddress.TryParse(options.Server, out _, out string? error))
            {
                yield return $"{S}:Server (--dns-server) {error}.";
            }
        }
        else if (options.Enabled)
        {
            yield return $"{S}:Server (--dns-server) is required to publish in DNS ({S}:Publish, --dns-publish): give the server that takes dynamic updates.";
        }

        if (!string.IsNullOrWhiteSpace(options.TsigKeyFile) && TryLoadKey(options.TsigKeyFile) is { } keyError)
        {
            yield return $"{S}:TsigKeyFile (--dns-tsig-key-file) {keyError}.";
        }

        if (!string.IsNullOrWhiteSpace(options.HostName))
        {
            if (!DnsNames.IsValidHostName(options.HostName, out string? error))
            {
                yield return $"{S}:HostName (--dns-host-name) {error}.";
            }
        }
        else if (options.Enabled && !DnsNames.IsValidHostName(DnsPublishEntry.DefaultHostLabel, out _))
        {
            yield return $"{S}:HostName (--dns-host-name) is not set and the machine name '{DnsPublishEntry.DefaultHostLabel}' is not a DNS label; set it.";
        }

        if (options.Ttl < DnsPublishingOptions.MinTtl || options.Ttl > DnsPublishingOptions.MaxTtl)
        {
            yield return $"{S}:Ttl (--dns-ttl) is {T(options.Ttl)}; expected 1 second to 1 day.";
        }

        if (options.RefreshInterval < DnsPublishingOptions.MinRefreshInterval || options.RefreshInterval > DnsPublishingOptions.MaxRefreshInterval)
        {
            yield return $"{S}:RefreshInterval (--dns-refresh-interval) is {T(options.RefreshInterval)}; expected 1 second to 7 days.";
        }
    }

    private static string? TryLoadKey(string path)
    {
        try
        {
            TsigKeyFile.Load(path);
            return null;
        }
        catch (FormatException ex)
        {
            return ex.Message.TrimEnd('.');
        }
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string T(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);
}
