using System.Buffers.Binary;
using System.Net;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;

namespace KmsFarm.Node.Tests;

/// <summary>A minimal KMS client over <see cref="RawKmsConnection"/>: binds with the recorded vlmcs bind and
/// alter_context (NDR32 context 0, NDR64 context 1, BTFN), builds request PDUs by hand (PROTOCOL-NOTES §2.4) and checks
/// responses with the production <see cref="KmsClientCodec"/>. Independent of the client library on purpose.</summary>
public sealed class RawKmsClient : IAsyncDisposable
{
    private readonly RawKmsConnection _connection;
    private uint _callId = 2;

    private RawKmsClient(RawKmsConnection connection) => _connection = connection;

    public RawKmsConnection Connection => _connection;

    public static async Task<RawKmsClient> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var connection = await RawKmsConnection.ConnectAsync(endPoint, cancellationToken);
        var client = new RawKmsClient(connection);
        var recorded = RecordedVectors.Load("v6_win10pro_ndr32").Connections[0].ClientToServer.Take(2).ToArray();
        foreach (var pdu in recorded)
        {
            await connection.SendAsync(pdu.Bytes, cancellationToken);
            var reply = await connection.ReceivePduAsync(cancellationToken);
            Assert.NotNull(reply);
            Assert.True(reply[2] is 12 or 15, $"expected bind_ack/alter_context_resp, got PTYPE {reply[2]}");
        }

        return client;
    }

    /// <summary>Sends one request; returns the HRESULT and, on success, the verified response.</summary>
    public async Task<(uint HResult, KmsResponse? Response)> RequestAsync(
        KmsProtocolVersion version, KmsRequest request, bool ndr64, CancellationToken cancellationToken)
    {
        var payload = new byte[KmsClientCodec.MaxRequestLength];
        int length = KmsClientCodec.EncodeRequest(version, request, payload, out var state);
        var pdu = BuildRequestPdu(payload.AsSpan(0, length), ndr64, _callId++);
        await _connection.SendAsync(pdu, cancellationToken);
        var reply = await _connection.ReceivePduAsync(cancellationToken);
        Assert.NotNull(reply);
        var (response, hresult) = RpcStubReader.Read(reply, ndr64);
        return response is null ? (hresult, null) : (hresult, KmsClientCodec.DecodeResponse(response, state));
    }

    public static byte[] BuildRequestPdu(ReadOnlySpan<byte> payload, bool ndr64, uint callId)
    {
        int word = ndr64 ? 8 : 4;
        int stubLength = (2 * word) + payload.Length;
        var pdu = new byte[24 + stubLength];
        pdu[0] = 5;
        pdu[2] = 0;
        pdu[3] = 0x03;
        pdu[4] = 0x10;
        BinaryPrimitives.WriteUInt16LittleEndian(pdu.AsSpan(8), (ushort)pdu.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(pdu.AsSpan(12), callId);
        BinaryPrimitives.WriteUInt32LittleEndian(pdu.AsSpan(16), (uint)stubLength);
        BinaryPrimitives.WriteUInt16LittleEndian(pdu.AsSpan(20), (ushort)(ndr64 ? 1 : 0));
        var stub = pdu.AsSpan(24);
        if (ndr64)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(stub, (ulong)payload.Length);
            BinaryPrimitives.WriteUInt64LittleEndian(stub[8..], (ulong)payload.Length);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(stub, (uint)payload.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(stub[4..], (uint)payload.Length);
        }

        payload.CopyTo(stub[(2 * word)..]);
        return pdu;
    }

    /// <summary>A Windows 10/11 Pro request (N_Policy 25) with the given CMID and the current time.</summary>
    public static KmsRequest WindowsProRequest(Guid clientMachineId, KmsProtocolVersion version = KmsProtocolVersion.V6)
    {
        var request = new KmsRequest
        {
            MajorVersion = (ushort)version,
            LicenseStatus = 2,
            BindingExpiration = 43200,
            ApplicationId = new Guid("55c92734-d682-4d71-983e-d6ec3f16059f"),
            SkuId = new Guid("2de67392-b7a7-462a-b1ca-108dd189f588"),
            KmsCountedId = new Guid("58e2134f-8e11-4d17-9cb2-91069c151148"),
            ClientMachineId = clientMachineId,
            RequiredClientCount = 25,
            ClientTime = DateTime.UtcNow.ToFileTimeUtc(),
        };
        request.SetWorkstationName("lab-" + clientMachineId.ToString("N")[..8]);
        return request;
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
