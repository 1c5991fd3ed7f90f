namespace KmsFarm.Protocol.Rpc;

/// <summary>The NDR transfer syntax a presentation context was bound to.</summary>
public enum RpcTransferSyntax
{
    /// <summary>NDR 2.0 (8a885d04-1ceb-11c9-9fe8-08002b104860 v2): 32-bit sizes in the stub.</summary>
    Ndr32,

    /// <summary>NDR64 (71710533-beba-4937-8319-b5dbef9ccc36 v1): 64-bit sizes in the stub.</summary>
    Ndr64,
}
