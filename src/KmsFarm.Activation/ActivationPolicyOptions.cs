using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation;

/// <summary>How the farm decides activation requests (configuration section <c>Activation</c>). Defaults behave like a
/// genuine KMS host; <see cref="Validate"/> names the setting to fix.</summary>
public sealed class ActivationPolicyOptions
{
    public const string SectionName = "Activation";

    public const int DefaultActivationIntervalMinutes = 120;
    public const int DefaultRenewalIntervalMinutes = 10080;
    public const int MinIntervalMinutes = 15;
    public const int MaxIntervalMinutes = 43200;
    public static readonly TimeSpan DefaultMaxClockSkew = TimeSpan.FromHours(4);

    /// <summary>VL activation (retry) interval sent to clients, in minutes. Default 120 (Microsoft's); 15..43200.</summary>
    public int ActivationIntervalMinutes { get; set; } = DefaultActivationIntervalMinutes;

    /// <summary>VL renewal interval sent to clients, in minutes. Default 10080 (7 days); 15..43200.</summary>
    public int RenewalIntervalMinutes { get; set; } = DefaultRenewalIntervalMinutes;

    /// <summary>Refuse (0xC004F06C) a request whose client clock differs from ours by more than
    /// <see cref="MaxClockSkew"/>, as a genuine host does. Default false (lab clocks drift).</summary>
    public bool StrictTimeCheck { get; set; }

    /// <summary>The clock difference tolerated when <see cref="StrictTimeCheck"/> is on. Default 4 hours.</summary>
    public TimeSpan MaxClockSkew { get; set; } = DefaultMaxClockSkew;

    /// <summary>A lab floor for the reported count per product group, so a lab activates its first clients without 25
    /// machines: reported = min(max(real count, floor), the cache's capacity). Each floor is 0..the group's capacity with
    /// the catalog's products (Windows 50, Office 10; see <see cref="GroupCapacity"/>). Empty (off) by default. Example:
    /// <c>"MinimumReportedCount": { "Windows": 25, "Office2013Plus": 5 }</c>; flag <c>--minimum-count Windows=25</c>.</summary>
    public Dictionary<ProductGroup, int> MinimumReportedCount { get; set; } = [];

    /// <summary>The CSVLKs (catalog ids, e.g. <c>WindowsServer2025</c>, <c>Office2024</c>) the farm acts as if it had
    /// installed. A product is activated only if one of them can activate it. Empty (default): all of the catalog.</summary>
    public List<string> ServedCsvlks { get; set; } = [];

    /// <summary>Refuse retail and pre-release KMS ids with 0xC004F042, as a genuine host does. Default true.</summary>
    public bool RefuseRetailAndPreview { get; set; } = true;

    /// <summary>Refuse KMS ids the catalog does not know with 0xC004F042. Default false: they are activated with the
    /// application's fallback CSVLK and logged.</summary>
    public bool RefuseUnknownProducts { get; set; }

    /// <summary>The capacity a group's cache reaches with the catalog's own products: 2 × their largest N_Policy (50 for
    /// Windows, 10 for Office). The upper bound of <see cref="MinimumReportedCount"/>.</summary>
    public static int GroupCapacity(ProductCatalog catalog, ProductGroup group)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return Math.Min(ProductGroupLedger.MaxCapacity, 2 * catalog.Products.Where(p => p.Group == group).Select(p => p.NPolicy).DefaultIfEmpty(0).Max());
    }

    /// <summary>The floor for <paramref name="group"/> (0 when none is set).</summary>
    public int GetMinimumReportedCount(ProductGroup group) => MinimumReportedCount.GetValueOrDefault(group);

    /// <summary>Checks every setting; returns one message per problem, each naming the key (empty when valid).
    /// <paramref name="catalog"/>, when given, is used to check <see cref="ServedCsvlks"/>.</summary>
    public IReadOnlyList<string> Validate(ProductCatalog? catalog = null)
    {
        var errors = new List<string>();
        CheckInterval(errors, nameof(ActivationIntervalMinutes), ActivationIntervalMinutes);
        CheckInterval(errors, nameof(RenewalIntervalMinutes), RenewalIntervalMinutes);
        if (MaxClockSkew <= TimeSpan.Zero || MaxClockSkew > TimeSpan.FromDays(7))
        {
            errors.Add($"{SectionName}:{nameof(MaxClockSkew)} must be more than 0 and at most 7.00:00:00 (was {MaxClockSkew}).");
        }

        foreach (var (group, floor) in MinimumReportedCount)
        {
            if (!Enum.IsDefined(group))
            {
                errors.Add($"{SectionName}:{nameof(MinimumReportedCount)} has an unknown product group '{group}' " +
                    $"(use {string.Join(", ", Enum.GetNames<ProductGroup>())}).");
            }
            else if (floor < 0 || floor > (catalog is null ? ProductGroupLedger.MaxCapacity : GroupCapacity(catalog, group)))
            {
                errors.Add(catalog is null
                    ? $"{SectionName}:{nameof(MinimumReportedCount)}:{group} is {floor}; expected 0..{ProductGroupLedger.MaxCapacity}."
                    : $"{SectionName}:{nameof(MinimumReportedCount)}:{group} is {floor}; expected 0..{GroupCapacity(catalog, group)}, the most the " +
                      $"{group} cache holds (2 × the largest N_Policy of its products). A host never reports more than it can count.");
            }
        }

        for (int i = 0; i < ServedCsvlks.Count; i++)
        {
            string id = ServedCsvlks[i];
            if (string.IsNullOrWhiteSpace(id))
            {
                errors.Add($"{SectionName}:{nameof(ServedCsvlks)}:{i} is empty.");
            }
            else if (catalog is not null && catalog.FindCsvlk(id) is null)
            {
                errors.Add($"{SectionName}:{nameof(ServedCsvlks)}:{i} '{id}' is not a CSVLK of the catalog " +
                    $"(known: {string.Join(", ", catalog.Csvlks.Select(c => c.Id))}).");
            }
        }

        return errors;
    }

    private static void CheckInterval(List<string> errors, string name, int value)
    {
        if (value < MinIntervalMinutes || value > MaxIntervalMinutes)
        {
            errors.Add($"{SectionName}:{name} must be between {MinIntervalMinutes} and {MaxIntervalMinutes} (was {value}).");
        }
    }
}
