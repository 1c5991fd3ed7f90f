namespace KmsFarm.Protocol.Catalog;

/// <summary>A KMS counted id: the product family a client asks the host to count it under.</summary>
/// <param name="Id">The KMS counted id a client sends.</param>
/// <param name="NPolicy">The N_Policy clients of this product send: 25 for Windows client, 5 for server and Office.</param>
/// <param name="CsvlkId">The CSVLK whose ePID answers this product.</param>
/// <param name="DefaultProtocol">The KMS protocol major version (4, 5 or 6) clients of this product use.</param>
public sealed record KmsProductInfo(
    Guid Id,
    string Name,
    Guid ApplicationId,
    ProductGroup Group,
    int NPolicy,
    string CsvlkId,
    bool IsRetail,
    bool IsPreview,
    int DefaultProtocol,
    string Source);
