using KmsFarm.Activation;

namespace KmsFarm.TestKit;

/// <summary>History records for tests that need rows of a given age.</summary>
public static class TestRecords
{
    /// <summary>A refused request (0xC004F042, no product group) recorded at <paramref name="time"/> by
    /// <paramref name="node"/>, with fresh ids.</summary>
    public static ActivationRecord Refusal(DateTimeOffset time, string node = "node-a") => new()
    {
        Time = time,
        Node = node,
        ClientAddress = "192.0.2.1",
        ProtocolVersion = 6,
        Group = null,
        ApplicationId = Guid.NewGuid(),
        SkuId = Guid.NewGuid(),
        KmsCountedId = Guid.NewGuid(),
        ClientMachineId = Guid.NewGuid(),
        MachineName = "pc",
        LicenseStatus = 2,
        IsClientVm = false,
        RequiredClientCount = 25,
        Result = 0xC004F042,
    };
}
