namespace KmsFarm.Protocol.Kms;

/// <summary>HRESULTs a KMS host returns in the stub of a well-formed RPC response.</summary>
public static class KmsHResults
{
    public const uint Success = 0;

    /// <summary>HRESULT_FROM_WIN32(ERROR_INVALID_DATA): bad version, bad length, N_Policy above 1000.</summary>
    public const uint InvalidData = 0x8007000D;

    /// <summary>The KMS host cannot activate the requested product (product gate).</summary>
    public const uint ProductNotSupported = 0xC004F042;

    /// <summary>The client's clock differs from the host's by more than four hours.</summary>
    public const uint TimeSkew = 0xC004F06C;

    /// <summary>HRESULT_FROM_WIN32(RPC_S_SERVER_TOO_BUSY): what a Windows client reports when the host answers a request
    /// with the RPC fault nca_server_too_busy (a KmsFarm node does so over a source's request rate).</summary>
    public const uint ServerTooBusy = 0x800706BB;

    /// <summary>Computed by the client, never sent by a host: the count is below the client's N_Policy.</summary>
    public const uint InsufficientCount = 0xC004F038;
}
