using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client;

/// <summary>What a simulated client needs to know about the product it activates: the ids it sends, its N_Policy
/// and the protocol version a genuine installation of it speaks.</summary>
/// <param name="Aliases">Short names accepted by <c>--product</c> (e.g. <c>win11-pro</c>).</param>
public sealed record ClientProduct(
    string Name,
    Guid SkuId,
    Guid KmsCountedId,
    Guid ApplicationId,
    ProductGroup Group,
    uint RequiredClientCount,
    KmsProtocolVersion DefaultProtocol,
    IReadOnlyList<string>? Aliases = null)
{
    /// <summary>Short names accepted by <c>--product</c>; never null.</summary>
    public IReadOnlyList<string> Aliases { get; init; } = Aliases ?? [];

    /// <summary>True for Windows Server editions (their default machine names differ from desktops').</summary>
    public bool IsServer => Name.Contains("Server", StringComparison.OrdinalIgnoreCase);
}
