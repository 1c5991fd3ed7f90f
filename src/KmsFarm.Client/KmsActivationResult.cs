using KmsFarm.Protocol.Kms;
using KmsFarm.Protocol.Rpc;

namespace KmsFarm.Client;

/// <summary>The outcome of one activation request that the host answered at the RPC level.</summary>
/// <param name="HResult">0 on success, else the HRESULT the host returned (the response pointer was NULL).</param>
/// <param name="Response">The decoded and verified response when <paramref name="HResult"/> is 0.</param>
/// <param name="TransferSyntax">The NDR syntax of the presentation context the request used.</param>
/// <param name="Elapsed">From writing the request to having verified the response.</param>
public sealed record KmsActivationResult(uint HResult, KmsResponse? Response, RpcTransferSyntax TransferSyntax, TimeSpan Elapsed)
{
    public bool Succeeded => HResult == KmsHResults.Success && Response is not null;
}
