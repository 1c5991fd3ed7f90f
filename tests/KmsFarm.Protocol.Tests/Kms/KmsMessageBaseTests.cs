using KmsFarm.Protocol.Kms;

namespace KmsFarm.Protocol.Tests.Kms;

public sealed class KmsMessageBaseTests
{
    [Fact]
    public void Request_base_uses_the_documented_offsets_and_guid_order()
    {
        var request = new KmsRequest
        {
            MinorVersion = 0,
            MajorVersion = 6,
            IsClientVm = 1,
            LicenseStatus = 5,
            BindingExpiration = 0x01020304,
            ApplicationId = Guid.Parse("51c82175-844e-4750-b0d8-ec255555bc06"),
            RequiredClientCount = 25,
            ClientTime = 0x0102030405060708,
        };
        request.SetWorkstationName("PC");
        var bytes = new byte[KmsRequest.Size];
        request.WriteTo(bytes);

        Assert.Equal("00000600", Convert.ToHexStringLower(bytes[0..4]));
        Assert.Equal("01000000", Convert.ToHexStringLower(bytes[4..8]));
        Assert.Equal("05000000", Convert.ToHexStringLower(bytes[8..12]));
        Assert.Equal("04030201", Convert.ToHexStringLower(bytes[12..16]));
        Assert.Equal("7521c8514e845047b0d8ec255555bc06", Convert.ToHexStringLower(bytes[16..32]));
        Assert.Equal("19000000", Convert.ToHexStringLower(bytes[80..84]));
        Assert.Equal("0807060504030201", Convert.ToHexStringLower(bytes[84..92]));
        Assert.Equal("5000430000", Convert.ToHexStringLower(bytes[108..113]));
        Assert.Equal(0x00060000u, request.Version);

        KmsRequest.Read(bytes, out var back);
        var again = new byte[KmsRequest.Size];
        back.WriteTo(again);
        Assert.Equal(bytes, again);
        Assert.Equal("PC", back.GetWorkstationName());
    }

    [Fact]
    public void Workstation_bytes_after_the_nul_are_kept_as_received()
    {
        var bytes = new byte[KmsRequest.Size];
        bytes[108] = (byte)'A';
        bytes[200] = 0xEE;
        KmsRequest.Read(bytes, out var request);
        Assert.Equal("A", request.GetWorkstationName());
        var again = new byte[KmsRequest.Size];
        request.WriteTo(again);
        Assert.Equal(bytes, again);
    }

    [Fact]
    public void Response_base_round_trips()
    {
        var original = new KmsResponseBase(0x00060000, "03612-00206-556-123727-03-10241-17763.0000-2972018", Guid.NewGuid(), 1234567, 50, 120, 10080);
        var bytes = new byte[original.Size];
        Assert.Equal(44 + 102, original.WriteTo(bytes));
        Assert.Equal(102, BitConverter.ToInt32(bytes, 4));
        Assert.Equal(0, BitConverter.ToUInt16(bytes, 6 + 102));
        Assert.Equal(original, KmsResponseBase.Read(bytes, out int size));
        Assert.Equal(bytes.Length, size);
    }

    [Theory]
    [InlineData("03612-00206-556-123727-03-1033-17763.0000-2972018", true)]
    [InlineData("03612-00206-561-854032-03-4108-14393.0000-1452024", true)]
    [InlineData("06401-00206-271-395032-03-10241-9600.0000-3662013", true)]
    [InlineData("03612-00206-556-123727-03-1033-17763.0000-3672018", false)]
    [InlineData("03612-00206-556-123727-03-1033-17763.0000-0002018", false)]
    [InlineData("03612-00206-556-123727-03-1033-17763.0001-2972018", false)]
    [InlineData("03612-00206-556-123727-03-1033-17763-2972018", false)]
    [InlineData("3612-00206-556-123727-03-1033-17763.0000-2972018", false)]
    [InlineData("03612-00206-556-123727-03-1033-17763.0000-2972018-", false)]
    [InlineData("03612-00206-55x-123727-03-1033-17763.0000-2972018", false)]
    [InlineData("03612-00206-556-123727-03-103333-17763.0000-2972018", false)]
    [InlineData("", false)]
    public void Epid_format(string epid, bool wellFormed) => Assert.Equal(wellFormed, EpidFormat.IsWellFormed(epid));
}
