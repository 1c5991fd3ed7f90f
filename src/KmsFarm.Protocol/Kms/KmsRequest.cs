using System.Buffers.Binary;
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

    /// <summary>Minor | major &lt;&lt; 16, as the first four bytes read little-endian.</summary>
    public readonly uint Version => MinorVersion | ((uint)MajorVersion << 16);

    /// <summary>Decodes the 236-byte base (field offsets PROTOCOL-NOTES §4.1). Any bytes are a valid base; the caller
    /// checks the values.</summary>
    public static void Read(ReadOnlySpan<byte> source, out KmsRequest request)
    {
        if (source.Length < Size)
        {
            throw new ArgumentException($"A request base is {Size} bytes.", nameof(source));
        }

        request.MinorVersion = BinaryPrimitives.ReadUInt16LittleEndian(source);
        request.MajorVersion = BinaryPrimitives.ReadUInt16LittleEndian(source[2..]);
        request.IsClientVm = BinaryPrimitives.ReadUInt32LittleEndian(source[4..]);
        request.LicenseStatus = BinaryPrimitives.ReadUInt32LittleEndian(source[8..]);
        request.BindingExpiration = BinaryPrimitives.ReadUInt32LittleEndian(source[12..]);
        request.ApplicationId = new Guid(source.Slice(16, 16));
        request.SkuId = new Guid(source.Slice(32, 16));
        request.KmsCountedId = new Guid(source.Slice(48, 16));
        request.ClientMachineId = new Guid(source.Slice(64, 16));
        request.RequiredClientCount = BinaryPrimitives.ReadUInt32LittleEndian(source[80..]);
        request.ClientTime = BinaryPrimitives.ReadInt64LittleEndian(source[84..]);
        request.PreviousClientMachineId = new Guid(source.Slice(92, 16));
        request.WorkstationName = default;
        source.Slice(108, WorkstationNameBytes).CopyTo(request.WorkstationName.AsSpan());
    }

    /// <summary>Encodes the 236-byte base; the workstation field is copied as stored (all 128 bytes).</summary>
    public readonly void WriteTo(Span<byte> destination)
    {
        if (destination.Length < Size)
        {
            throw new ArgumentException($"A request base is {Size} bytes.", nameof(destination));
        }

        BinaryPrimitives.WriteUInt16LittleEndian(destination, MinorVersion);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[2..], MajorVersion);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], IsClientVm);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], LicenseStatus);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], BindingExpiration);
        ApplicationId.TryWriteBytes(destination.Slice(16, 16));
        SkuId.TryWriteBytes(destination.Slice(32, 16));
        KmsCountedId.TryWriteBytes(destination.Slice(48, 16));
        ClientMachineId.TryWriteBytes(destination.Slice(64, 16));
        BinaryPrimitives.WriteUInt32LittleEndian(destination[80..], RequiredClientCount);
        BinaryPrimitives.WriteInt64LittleEndian(destination[84..], ClientTime);
        PreviousClientMachineId.TryWriteBytes(destination.Slice(92, 16));
        WorkstationName.AsReadOnlySpan().CopyTo(destination.Slice(108, WorkstationNameBytes));
    }

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
