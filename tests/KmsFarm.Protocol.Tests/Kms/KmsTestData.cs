using System.Buffers.Binary;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;

namespace KmsFarm.Protocol.Tests.Kms;

internal static class KmsTestData
{
    public static readonly KmsResponseFields Fields =
        new("03612-00206-556-123727-03-1033-17763.0000-2972018", 50, 120, 10080, HardwareId.Parse("3A1C049600B60076"));

    public static KmsRequest Request(uint requiredCount = 25, Guid? cmid = null)
    {
        var request = new KmsRequest
        {
            IsClientVm = 0,
            LicenseStatus = 2,
            BindingExpiration = 43200,
            ApplicationId = Guid.Parse("55c92734-d682-4d71-983e-d6ec3f16059f"),
            SkuId = Guid.Parse("2de67392-b7a7-462a-b1ca-108dd189f588"),
            KmsCountedId = Guid.Parse("58e2134f-8e11-4d17-9cb2-91069c151148"),
            ClientMachineId = cmid ?? Guid.NewGuid(),
            RequiredClientCount = requiredCount,
            ClientTime = DateTime.UtcNow.ToFileTimeUtc(),
        };
        request.SetWorkstationName("TEST-PC.lab.example");
        return request;
    }

    public static byte[] Encode(KmsProtocolVersion version, in KmsRequest request, out KmsClientState state)
    {
        var buffer = new byte[KmsClientCodec.MaxRequestLength];
        int written = KmsClientCodec.EncodeRequest(version, request, buffer, out state);
        return buffer[..written];
    }

    /// <summary>The KMS payload of an NDR32 request PDU: after the 24-byte request header, u32 size and u32 max count.</summary>
    public static byte[] RawPayload(string rawName)
    {
        var pdu = RecordedVectors.LoadRaw(rawName).First(m => m.FromClient && m.Bytes![2] == 0).Bytes!;
        int size = BinaryPrimitives.ReadInt32LittleEndian(pdu.AsSpan(24));
        return pdu.AsSpan(32, size).ToArray();
    }
}
