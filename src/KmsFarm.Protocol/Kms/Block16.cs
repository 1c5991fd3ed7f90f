using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KmsFarm.Protocol.Kms;

/// <summary>16 inline bytes: an AES block, IV or salt.</summary>
[InlineArray(16)]
public struct Block16
{
    private byte _element0;

    public Span<byte> AsSpan() => MemoryMarshal.CreateSpan(ref _element0, 16);

    public readonly ReadOnlySpan<byte> AsReadOnlySpan() => MemoryMarshal.CreateReadOnlySpan(ref Unsafe.AsRef(in _element0), 16);
}
