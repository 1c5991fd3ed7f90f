using System.Buffers.Binary;

namespace KmsFarm.Node.Tests;

/// <summary>Reads the KMS answer out of a response PDU (PROTOCOL-NOTES §2.5), independently of the production code.</summary>
public static class RpcStubReader
{
    public const byte ResponseType = 2;

    /// <summary>Returns the KMS response bytes (null for a failure stub) and the HRESULT return value.</summary>
    public static (byte[]? Response, uint HResult) Read(byte[] pdu, bool ndr64)
    {
        Assert.Equal(ResponseType, pdu[2]);
        var stub = pdu.AsSpan(24);
        int word = ndr64 ? 8 : 4;
        ulong size = ndr64 ? BinaryPrimitives.ReadUInt64LittleEndian(stub) : BinaryPrimitives.ReadUInt32LittleEndian(stub);
        ulong referent = ndr64 ? BinaryPrimitives.ReadUInt64LittleEndian(stub[word..]) : BinaryPrimitives.ReadUInt32LittleEndian(stub[word..]);
        if (referent == 0)
        {
            return (null, BinaryPrimitives.ReadUInt32LittleEndian(stub[(2 * word)..]));
        }

        int m = checked((int)size);
        var data = stub.Slice(3 * word, m).ToArray();
        int afterData = (3 * word) + m;
        int padded = (afterData + 3) & ~3;
        return (data, BinaryPrimitives.ReadUInt32LittleEndian(stub[padded..]));
    }
}
