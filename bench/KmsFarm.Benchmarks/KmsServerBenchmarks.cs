using BenchmarkDotNet.Attributes;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Benchmarks;

/// <summary>Server side of one KMS request: decode and validate the payload, then encode the response (fresh salt and
/// V6 IV from the CSPRNG), per protocol version.</summary>
[MemoryDiagnoser]
public class KmsServerBenchmarks
{
    private readonly byte[] _response = new byte[KmsServerCodec.MaxResponseLength];
    private readonly KmsResponseFields _fields =
        new("03612-00206-556-123727-03-1033-17763.0000-2972018", 50, 120, 10080, HardwareId.Parse("3A1C049600B60076"));

    private byte[] _payload = [];

    [Params(KmsProtocolVersion.V4, KmsProtocolVersion.V5, KmsProtocolVersion.V6)]
    public KmsProtocolVersion Version { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var request = new KmsRequest
        {
            LicenseStatus = 2,
            BindingExpiration = 43200,
            ApplicationId = Guid.Parse("55c92734-d682-4d71-983e-d6ec3f16059f"),
            SkuId = Guid.Parse("2de67392-b7a7-462a-b1ca-108dd189f588"),
            KmsCountedId = Guid.Parse("58e2134f-8e11-4d17-9cb2-91069c151148"),
            ClientMachineId = Guid.NewGuid(),
            RequiredClientCount = 25,
            ClientTime = DateTime.UtcNow.ToFileTimeUtc(),
        };
        request.SetWorkstationName("BENCH-PC.lab.example");
        var buffer = new byte[KmsClientCodec.MaxRequestLength];
        int length = KmsClientCodec.EncodeRequest(Version, request, buffer, out _);
        _payload = buffer[..length];
    }

    [Benchmark]
    public int DecodeAndRespond()
    {
        if (KmsServerCodec.DecodeRequest(_payload, out var request) != KmsHResults.Success)
        {
            throw new InvalidOperationException("The benchmark request did not decode.");
        }

        return KmsServerCodec.EncodeResponse(request, _fields, _response);
    }

    [Benchmark]
    public uint DecodeOnly() => KmsServerCodec.DecodeRequest(_payload, out _);
}
