using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Grains;

/// <summary>The grain key of a product group: the <see cref="ProductGroup"/> name ("Windows", "Office2010",
/// "Office2013Plus"). Part of the farm's wire contract: never rename the enum members.</summary>
public static class ProductGroupGrainKey
{
    public static string For(ProductGroup group) =>
        Enum.IsDefined(group) ? group.ToString() : throw new ArgumentOutOfRangeException(nameof(group), group, "Not a product group.");

    public static ProductGroup Parse(string key) =>
        Enum.TryParse<ProductGroup>(key, ignoreCase: false, out var group) && Enum.IsDefined(group) && group.ToString() == key
            ? group
            : throw new ArgumentException($"'{key}' is not a product group grain key.", nameof(key));
}
