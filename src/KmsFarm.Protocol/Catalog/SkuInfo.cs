namespace KmsFarm.Protocol.Catalog;

/// <summary>A volume SKU (activation id) and the KMS counted id its clients send.</summary>
/// <param name="Aliases">Short names accepted by <see cref="ProductCatalog.FindSku"/> (e.g. <c>win11-pro</c>).</param>
public sealed record SkuInfo(Guid Id, string Name, Guid KmsCountedId, IReadOnlyList<string> Aliases, string Source);
