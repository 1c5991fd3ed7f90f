using System.Net;
using KmsFarm.Node.Configuration;

namespace KmsFarm.Node.Access;

/// <summary>Builds the <see cref="IpAccessList"/> from validated <see cref="AccessControlOptions"/>.</summary>
public static class AccessListFactory
{
    public static IpAccessList Create(AccessControlOptions options) => new(Parse(options.EffectiveAllow, "Allow", "--allow"), Parse(options.Deny, "Deny", "--deny"));

    private static IEnumerable<IPNetwork> Parse(IReadOnlyList<string> entries, string key, string flag)
    {
        for (int i = 0; i < entries.Count; i++)
        {
            yield return IpAccessList.TryParseCidr(entries[i], out var network, out string? error)
                ? network
                : throw new NodeConfigurationException($"{AccessControlOptions.SectionName}:{key}:{i} ({flag}) {error}.");
        }
    }
}
