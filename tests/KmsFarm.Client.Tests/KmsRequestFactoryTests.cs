using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client.Tests;

public sealed class KmsRequestFactoryTests
{
    [Fact]
    public void A_request_carries_the_skus_ids_policy_and_the_machines_identity()
    {
        var product = ClientCatalog.Default.FindByName("Windows 10 Enterprise")!;
        var cmid = Guid.NewGuid();
        var now = new DateTime(2026, 3, 1, 12, 0, 0, DateTimeKind.Utc);

        var request = KmsRequestFactory.Create(product, cmid, "DESKTOP-ABC1234", KmsProtocolVersion.V6, now);

        Assert.Equal(6, request.MajorVersion);
        Assert.Equal(0, request.MinorVersion);
        Assert.Equal(KmsApplicationIds.Windows, request.ApplicationId);
        Assert.Equal(new Guid("73111121-5638-40f6-bc11-f1d7b0d64300"), request.SkuId);
        Assert.Equal(new Guid("58e2134f-8e11-4d17-9cb2-91069c151148"), request.KmsCountedId);
        Assert.Equal(cmid, request.ClientMachineId);
        Assert.Equal(25u, request.RequiredClientCount);
        Assert.Equal(2u, request.LicenseStatus);
        Assert.Equal(43200u, request.BindingExpiration);
        Assert.Equal(0u, request.IsClientVm);
        Assert.Equal(Guid.Empty, request.PreviousClientMachineId);
        Assert.Equal(now.ToFileTimeUtc(), request.ClientTime);
        Assert.Equal("DESKTOP-ABC1234", request.GetWorkstationName());
    }

    [Fact]
    public void Office_products_use_their_application_and_policy()
    {
        var office2010 = ClientCatalog.Default.FindByName("Office Professional Plus 2010")!;
        var office2019 = ClientCatalog.Default.FindByName("Office Professional Plus 2019")!;

        var machine = new KmsClientMachine(Guid.NewGuid(), "DESKTOP-X", office2010);
        var request = machine.CreateRequest(office2010.DefaultProtocol, DateTime.UtcNow, KmsRequestFactory.LicensedStatus);

        Assert.Equal(KmsApplicationIds.Office2010, request.ApplicationId);
        Assert.Equal(5u, request.RequiredClientCount);
        Assert.Equal(1u, request.LicenseStatus);
        Assert.Equal(KmsProtocolVersion.V4, office2010.DefaultProtocol);
        Assert.Equal(KmsApplicationIds.Office2013Plus, office2019.ApplicationId);
        Assert.Equal(KmsProtocolVersion.V6, office2019.DefaultProtocol);
    }

    [Fact]
    public void The_catalog_finds_products_by_alias_sku_id_and_kms_id()
    {
        var catalog = ClientCatalog.Default;
        var pro = catalog.FindByName("Windows 10 Professional")!;

        Assert.Same(pro, catalog.FindByName("2de67392-b7a7-462a-b1ca-108dd189f588"));
        Assert.Same(pro, catalog.FindBySkuId(pro.SkuId));
        Assert.Equal(pro.KmsCountedId, catalog.FindByKmsId(pro.KmsCountedId).KmsCountedId);
        foreach (var alias in pro.Aliases)
        {
            Assert.Same(pro, catalog.FindByName(alias));
        }

        var unknown = catalog.FindByKmsId(Guid.Parse("00000000-1111-2222-3333-444444444444"));
        Assert.Equal(KmsApplicationIds.Windows, unknown.ApplicationId);
        Assert.Equal(KmsProtocolVersion.V6, unknown.DefaultProtocol);
    }
}
