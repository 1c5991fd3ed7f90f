using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;

namespace KmsFarm.Benchmarks;

/// <summary>The platform primitives a V5/V6 response spends its time in (OpenSSL on Linux), to see what dominates.</summary>
[MemoryDiagnoser]
public class PlatformCryptoBenchmarks
{
    private readonly byte[] _salt = new byte[16];
    private readonly byte[] _key = new byte[16];
    private readonly byte[] _message = new byte[232];
    private readonly byte[] _digest = new byte[32];
    private readonly byte[] _random = new byte[32];

    [Benchmark]
    public void Sha256Of16Bytes() => SHA256.HashData(_salt, _digest);

    [Benchmark]
    public void HmacSha256Of232Bytes() => HMACSHA256.HashData(_key, _message, _digest);

    [Benchmark]
    public void RandomFill32() => RandomNumberGenerator.Fill(_random);
}
