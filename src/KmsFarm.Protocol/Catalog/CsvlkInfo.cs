namespace KmsFarm.Protocol.Catalog;

/// <summary>A KMS host key (CSVLK): what an ePID is made from and which KMS counted ids it activates.</summary>
/// <param name="Id">Short stable name (e.g. <c>WindowsServer2025</c>, <c>Office2010</c>), used in configuration and in
/// the farm identity.</param>
/// <param name="ActivationId">The CSVLK's activation id in Microsoft's licensing data, when known.</param>
/// <param name="GroupId">The ePID group id (GGGGG).</param>
/// <param name="KeyBlocks">The key id blocks an ePID key id is drawn from (never from a hole between them).</param>
/// <param name="ReleaseDate">The earliest date an ePID of this CSVLK may carry.</param>
/// <param name="Activates">The KMS counted ids this CSVLK activates.</param>
public sealed record CsvlkInfo(
    string Id,
    Guid? ActivationId,
    string Name,
    Guid ApplicationId,
    int GroupId,
    IReadOnlyList<KeyBlock> KeyBlocks,
    DateOnly ReleaseDate,
    IReadOnlyList<Guid> Activates,
    bool IsLab,
    bool IsAzure,
    bool IsPreview,
    string Source)
{
    /// <summary>True when <paramref name="keyId"/> lies inside one of the key blocks.</summary>
    public bool ContainsKeyId(int keyId)
    {
        foreach (var block in KeyBlocks)
        {
            if (block.Contains(keyId))
            {
                return true;
            }
        }

        return false;
    }

    public bool CanActivate(Guid kmsCountedId) => Activates.Contains(kmsCountedId);
}
