using KmsFarm.Protocol.Kms;

namespace KmsFarm.Activation;

/// <summary>The answer to one request: HResult 0 with the response fields, or the HRESULT to refuse with.</summary>
public readonly record struct ActivationDecision(uint HResult, KmsResponseFields Response)
{
    public bool IsSuccess => HResult == KmsHResults.Success;

    public static ActivationDecision Refuse(uint hresult) => new(hresult, default);
}
