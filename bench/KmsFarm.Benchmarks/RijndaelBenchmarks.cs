using BenchmarkDotNet.Attributes;
using KmsFarm.Protocol.Crypto;

namespace KmsFarm.Benchmarks;

/// <summary>One 16-byte block through the V6 (modified AES-128) cipher, AES-NI against the software path, and a
/// 240-byte CBC decrypt (the size of a V5/V6 request body).</summary>
[MemoryDiagnoser]
public class RijndaelBenchmarks
{
    private readonly byte[] _block = new byte[16];
    private readonly byte[] _output = new byte[16];
    private readonly byte[] _body = new byte[240];
    private readonly byte[] _bodyOut = new byte[240];

    [Benchmark(Baseline = true)]
    public void EncryptBlockAesNi() => KmsKeyMaterial.Default.V6.EncryptBlock(_block, _output);

    [Benchmark]
    public void EncryptBlockSoftware() => KmsKeyMaterial.Software.V6.EncryptBlock(_block, _output);

    [Benchmark]
    public void DecryptCbc240AesNi() => KmsKeyMaterial.Default.V6.DecryptCbc(_block, _body, _bodyOut);

    [Benchmark]
    public void DecryptCbc240Software() => KmsKeyMaterial.Software.V6.DecryptCbc(_block, _body, _bodyOut);
}
