using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client;

/// <summary>One simulated client installation: a stable CMID and workstation name running one product.</summary>
public sealed record KmsClientMachine(Guid ClientMachineId, string WorkstationName, ClientProduct Product)
{
    /// <summary>Builds the request this machine sends now. <paramref name="licenseStatus"/> is 2 (out-of-box grace) for a
    /// first activation and 1 (licensed) for a renewal, as Windows reports it.</summary>
    public KmsRequest CreateRequest(KmsProtocolVersion version, DateTime utcNow, uint licenseStatus = KmsRequestFactory.DefaultLicenseStatus) =>
        KmsRequestFactory.Create(Product, ClientMachineId, WorkstationName, version, utcNow, licenseStatus);
}
