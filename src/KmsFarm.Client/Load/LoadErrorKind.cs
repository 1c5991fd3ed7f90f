namespace KmsFarm.Client.Load;

/// <summary>Why a load request did not end in an activation.</summary>
public enum LoadErrorKind
{
    /// <summary>The TCP connection could not be opened (refused, unreachable, connect timeout).</summary>
    Connect,

    /// <summary>The host did not reply in time.</summary>
    Timeout,

    /// <summary>The host broke the RPC or KMS protocol (includes responses that fail verification).</summary>
    Protocol,

    /// <summary>The host closed or reset the connection mid-exchange.</summary>
    ConnectionLost,

    /// <summary>The host answered with a failure HRESULT.</summary>
    Refused,
}
