using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace KmsFarm.Protocol.Kms;

/// <summary>The 236-byte plaintext request base shared by V4, V5 and V6 (PROTOCOL-NOTES §4.1).
/// A value type with the workstation name kept as raw UTF-16 bytes, so decoding allocates nothing.</summary>
public struct KmsRequest
{
    public const int Size = 236;
    public const int WorkstationNameBytes = 128;

    public ushort MinorVersion;
    public ushort MajorVersion;
    public uint IsClientVm;
    public uint LicenseStatus;
    public uint BindingExpiration;
    public Guid ApplicationId;
    public Guid SkuId;
    public Guid KmsCountedId;
    public Guid ClientMachineId;
    /// <summary>N_Policy: the minimum count the client needs to activate.</summary>
    public uint RequiredClientCount;
    /// <summary>FILETIME (100 ns since 1601-01-01 UTC) of the client's clock.</summary>
    public long ClientTime;
    public Guid PreviousClientMachineId;
    public WorkstationNameBuffer WorkstationName;

    public readonly DateTime ClientTimeUtc =>
        ClientTime is >= 0 and <= 2650467743999999999 ? DateTime.FromFileTimeUtc(ClientTime) : DateTime.MinValue;

    /// <summary>Decodes the workstation name up to its NUL (at most 63 characters); allocates a string.</summary>
    public readonly string GetWorkstationName()
    {
        ReadOnlySpan<char> chars = MemoryMarshal.Cast<byte, char>(WorkstationName.AsReadOnlySpan());
        int nul = chars.IndexOf('\0');
        return new string(nul < 0 ? chars : chars[..nul]);
    }

    /// <summary>Stores <paramref name="name"/> (truncated to 63 characters) NUL-terminated and zero-filled.</summary>
    public void SetWorkstationName(ReadOnlySpan<char> name)
    {
        Span<byte> bytes = WorkstationName.AsSpan();
        bytes.Clear();
        if (name.Length > 63)
        {
            name = name[..63];
        }

        MemoryMarshal.AsBytes(name).CopyTo(bytes);
    }
}

/// <summary>128 raw bytes of UTF-16LE workstation name as carried on the wire.</summary>
[InlineArray(KmsRequest.WorkstationNameBytes)]
public struct WorkstationNameBuffer
{
    private byte _element0;

    public Span<byte> AsSpan() => MemoryMarshal.CreateSpan(ref _element0, KmsRequest.WorkstationNameBytes);

    public readonly ReadOnlySpan<byte> AsReadOnlySpan() =>
        MemoryMarshal.CreateReadOnlySpan(ref Unsafe.AsRef(in _element0), KmsRequest.WorkstationNameBytes);
}
