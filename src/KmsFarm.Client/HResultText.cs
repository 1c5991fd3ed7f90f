using System.Globalization;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client;

/// <summary>Meanings of the HRESULTs a KMS host returns (PROTOCOL-NOTES §8).</summary>
public static class HResultText
{
    public static string Format(uint hresult) => "0x" + hresult.ToString("X8", CultureInfo.InvariantCulture);

    public static string Describe(uint hresult) => hresult switch
    {
        KmsHResults.Success => "success",
        KmsHResults.InvalidData => "the KMS host cannot handle this request (invalid data: unsupported protocol version, bad size or N_Policy)",
        KmsHResults.ProductNotSupported => "the KMS host has declined to activate the requested product",
        KmsHResults.TimeSkew => "the client's clock differs from the KMS host's by more than four hours",
        KmsHResults.ServerTooBusy =>
            "the RPC server is too busy to complete this operation (the KMS host limits requests per client address)",
        KmsHResults.InsufficientCount => "the count reported by the KMS host is below the product's N_Policy",
        0xC004D104 => "the security processor reported that invalid data was used (the host's client list is full)",
        _ => "unknown HRESULT",
    };
}
