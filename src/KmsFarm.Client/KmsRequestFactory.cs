using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client;

/// <summary>Fills the 236-byte request base the way a Windows or Office client does (PROTOCOL-NOTES §4.1).</summary>
public static class KmsRequestFactory
{
    /// <summary>Out-of-box grace, what vlmcs sends by default.</summary>
    public const uint DefaultLicenseStatus = 2;

    /// <summary>Licensed: what an already activated machine reports when it renews.</summary>
    public const uint LicensedStatus = 1;

    /// <summary>Minutes left in the current licence state (30 days), vlmcs's default.</summary>
    public const uint DefaultBindingExpiration = 43200;

    public static KmsRequest Create(
        ClientProduct product,
        Guid clientMachineId,
        string workstationName,
        KmsProtocolVersion version,
        DateTime clientTimeUtc,
        uint licenseStatus = DefaultLicenseStatus,
        uint bindingExpiration = DefaultBindingExpiration)
    {
        var request = new KmsRequest
        {
            MinorVersion = 0,
            MajorVersion = (ushort)version,
            IsClientVm = 0,
            LicenseStatus = licenseStatus,
            BindingExpiration = bindingExpiration,
            ApplicationId = product.ApplicationId,
            SkuId = product.SkuId,
            KmsCountedId = product.KmsCountedId,
            ClientMachineId = clientMachineId,
            RequiredClientCount = product.RequiredClientCount,
            ClientTime = clientTimeUtc.ToUniversalTime().ToFileTimeUtc(),
            PreviousClientMachineId = Guid.Empty,
        };
        request.SetWorkstationName(workstationName);
        return request;
    }
}
