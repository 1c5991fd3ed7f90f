using System.Globalization;
using KmsFarm.Protocol.Kms;
using KmsFarm.Protocol.Rpc;

namespace KmsFarm.Client.Cli;

/// <summary>One request's outcome as <c>activate</c> prints it (also its JSON shape).</summary>
internal sealed record RequestReport(
    int Request,
    int Protocol,
    RpcTransferSyntax TransferSyntax,
    double ElapsedMs,
    string HResult,
    string? Error,
    string? Epid,
    string? HwId,
    uint? Count,
    bool? CountBelowNPolicy,
    uint? ActivationIntervalMinutes,
    uint? RenewalIntervalMinutes)
{
    public static RequestReport From(int index, KmsProtocolVersion protocol, ClientProduct product, KmsActivationResult result)
    {
        var response = result.Response;
        return new RequestReport(
            index,
            (int)protocol,
            result.TransferSyntax,
            Math.Round(result.Elapsed.TotalMilliseconds, 3),
            HResultText.Format(result.HResult),
            result.Succeeded ? null : HResultText.Describe(result.HResult),
            response?.Epid,
            response?.HwId?.ToString(),
            response?.CurrentCount,
            response is null ? null : response.CurrentCount < product.RequiredClientCount,
            response?.ActivationInterval,
            response?.RenewalInterval);
    }

    public void WriteText(TextWriter output)
    {
        var ic = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(ic, $"Request {Request}: V{Protocol} over {TransferSyntax}, {ElapsedMs:0.###} ms"));
        if (Error is not null)
        {
            output.WriteLine(string.Create(ic, $"  Refused: {HResult} ({Error})"));
            return;
        }

        output.WriteLine(string.Create(ic, $"  ePID:                {Epid}"));
        if (HwId is not null)
        {
            output.WriteLine(string.Create(ic, $"  HwId:                {HwId}"));
        }

        output.WriteLine(string.Create(ic, $"  Current count:       {Count}{(CountBelowNPolicy == true ? " (below N_Policy: a real client stays unactivated, 0xC004F038)" : string.Empty)}"));
        output.WriteLine(string.Create(ic, $"  Activation interval: {ActivationIntervalMinutes} min"));
        output.WriteLine(string.Create(ic, $"  Renewal interval:    {RenewalIntervalMinutes} min"));
    }
}
