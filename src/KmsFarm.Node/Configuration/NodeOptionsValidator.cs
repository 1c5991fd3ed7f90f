using System.Globalization;
using KmsFarm.Node.Access;
using KmsFarm.Node.Storage;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Configuration;

/// <summary>Start-up checks for the node's settings. Every message names the configuration key and its flag, so the
/// operator knows what to fix wherever the value came from.</summary>
public sealed class NodeOptionsValidator :
    IValidateOptions<KmsListenerOptions>, IValidateOptions<AccessControlOptions>, IValidateOptions<StoreOptions>, IValidateOptions<NodeOptions>
{
    public ValidateOptionsResult Validate(string? name, KmsListenerOptions options) => Result(Check(options));

    public ValidateOptionsResult Validate(string? name, AccessControlOptions options) => Result(Check(options));

    public ValidateOptionsResult Validate(string? name, StoreOptions options) => Result(Check(options));

    public ValidateOptionsResult Validate(string? name, NodeOptions options) => Result(Check(options));

    public static IEnumerable<string> Check(KmsListenerOptions options)
    {
        var endpoints = options.EffectiveKmsEndpoints;
        for (int i = 0; i < endpoints.Count; i++)
        {
            if (!EndPointParser.TryParse(endpoints[i], out _, out string? error))
            {
                yield return $"{KmsListenerOptions.SectionName}:KmsEndpoints:{I(i)} (--kms-endpoint) {error}.";
            }
        }

        if (!EndPointParser.TryParse(options.HttpEndpoint, out _, out string? httpError))
        {
            yield return $"{KmsListenerOptions.SectionName}:HttpEndpoint (--http-endpoint) {httpError}.";
        }

        if (options.MaxConnections is < 1 or > 1_000_000)
        {
            yield return $"{KmsListenerOptions.SectionName}:MaxConnections (--max-connections) is {I(options.MaxConnections)}; expected 1..1000000.";
        }

        if (options.IdleTimeout < KmsListenerOptions.MinIdleTimeout || options.IdleTimeout > KmsListenerOptions.MaxIdleTimeout)
        {
            yield return $"{KmsListenerOptions.SectionName}:IdleTimeout (--idle-timeout) is {options.IdleTimeout.ToString("c", CultureInfo.InvariantCulture)}; expected 1 to 600 seconds.";
        }

        if (options.MaxFragmentLength is < 1024 or > 65535)
        {
            yield return $"{KmsListenerOptions.SectionName}:MaxFragmentLength (--max-fragment-length) is {I(options.MaxFragmentLength)}; expected 1024..65535.";
        }
    }

    public static IEnumerable<string> Check(AccessControlOptions options)
    {
        foreach (string failure in CheckList(options.EffectiveAllow, "Allow", "--allow"))
        {
            yield return failure;
        }

        foreach (string failure in CheckList(options.Deny, "Deny", "--deny"))
        {
            yield return failure;
        }
    }

    public static IEnumerable<string> Check(StoreOptions options)
    {
        if (!StoreLocation.TryParse(options.Location, out _, out string? error))
        {
            yield return $"{StoreOptions.SectionName}:Location (--store) {error}.";
        }
    }

    public static IEnumerable<string> Check(NodeOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Name) || options.Name.Length > 128)
        {
            yield return $"{NodeOptions.SectionName}:Name (--node-name) must be 1..128 characters.";
        }

        if (options.CatalogPath is { Length: > 0 } path && !File.Exists(path))
        {
            yield return $"{NodeOptions.SectionName}:CatalogPath (--catalog) '{path}' does not exist.";
        }

        if (options.HeartbeatInterval < NodeOptions.MinHeartbeatInterval || options.HeartbeatInterval > NodeOptions.MaxHeartbeatInterval)
        {
            yield return $"{NodeOptions.SectionName}:HeartbeatInterval (--heartbeat-interval) is {T(options.HeartbeatInterval)}; expected 100 ms to 10 minutes.";
        }
        else if (options.GoneAfter <= options.HeartbeatInterval || options.GoneAfter > TimeSpan.FromDays(1))
        {
            yield return $"{NodeOptions.SectionName}:GoneAfter (--node-gone-after) is {T(options.GoneAfter)}; expected longer than " +
                $"{NodeOptions.SectionName}:HeartbeatInterval ({T(options.HeartbeatInterval)}) and at most 1 day.";
        }
    }

    private static IEnumerable<string> CheckList(IReadOnlyList<string> entries, string key, string flag)
    {
        for (int i = 0; i < entries.Count; i++)
        {
            if (!IpAccessList.TryParseCidr(entries[i], out _, out string? error))
            {
                yield return $"{AccessControlOptions.SectionName}:{key}:{I(i)} ({flag}) {error}.";
            }
        }
    }

    private static ValidateOptionsResult Result(IEnumerable<string> failures)
    {
        var list = failures.ToList();
        return list.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(list);
    }

    private static string I(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string T(TimeSpan value) => value.ToString("c", CultureInfo.InvariantCulture);
}
