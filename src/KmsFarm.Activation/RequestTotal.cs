using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation;

/// <summary>The farm's cumulative count of answered requests with one product group, client license status and outcome
/// (the counters a KMS host shows in <c>slmgr /dlv</c>). Kept by the store as history rows are written; rows that history
/// retention removes later stay counted.</summary>
/// <param name="Group">Null for requests of an application id that is no product group's.</param>
/// <param name="LicenseStatus">The license status the client reported (0 unlicensed, 1 licensed, 2 initial grace, …).</param>
/// <param name="Failed">True for refused requests (answered with an HRESULT), false for activations.</param>
public sealed record RequestTotal(ProductGroup? Group, uint LicenseStatus, bool Failed, long Requests);
