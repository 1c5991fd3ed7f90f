using System.Globalization;
using System.Net.Sockets;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client.Cli;

/// <summary>Runs <c>activate</c>: one connection, <see cref="ActivateSettings.Count"/> requests, a report per request.</summary>
internal static class ActivateRunner
{
    public static async Task<int> RunAsync(ActivateSettings settings, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        var results = new List<RequestReport>();
        string? failure = null;
        int exitCode = ExitCodes.Success;
        var machine = new KmsClientMachine(settings.ClientMachineId, settings.WorkstationName, settings.Product);
        if (!settings.Json)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Connecting to {settings.Host} ({settings.Product.Name}, protocol V{(int)settings.Protocol}, CMID {settings.ClientMachineId}, machine {settings.WorkstationName})"));
        }

        try
        {
            await using var connection = await KmsClientConnection.ConnectAsync(
                settings.Host.Host, settings.Host.Port, settings.ClientOptions, cancellationToken).ConfigureAwait(false);
            for (int i = 1; i <= settings.Count; i++)
            {
                var request = machine.CreateRequest(settings.Protocol, DateTime.UtcNow);
                var result = await connection.ActivateAsync(settings.Protocol, request, cancellationToken).ConfigureAwait(false);
                var report = RequestReport.From(i, settings.Protocol, settings.Product, result);
                results.Add(report);
                if (!settings.Json)
                {
                    report.WriteText(output);
                }

                if (!result.Succeeded)
                {
                    failure = $"The KMS host refused the request: {HResultText.Format(result.HResult)} ({HResultText.Describe(result.HResult)}).";
                    exitCode = ExitCodes.Refused;
                    break;
                }
            }
        }
        catch (KmsProtocolException ex)
        {
            failure = "Protocol error: " + ex.Message;
            exitCode = ExitCodes.ProtocolError;
        }
        catch (Exception ex) when (ex is IOException or SocketException or TimeoutException)
        {
            failure = ex.Message;
            exitCode = ExitCodes.NetworkError;
        }

        if (settings.Json)
        {
            CliJson.Write(output, new
            {
                host = settings.Host.ToString(),
                product = settings.Product.Name,
                skuId = settings.Product.SkuId,
                kmsCountedId = settings.Product.KmsCountedId,
                applicationId = settings.Product.ApplicationId,
                group = settings.Product.Group,
                nPolicy = settings.Product.RequiredClientCount,
                protocol = (int)settings.Protocol,
                cmid = settings.ClientMachineId,
                machine = settings.WorkstationName,
                success = exitCode == ExitCodes.Success,
                error = failure,
                requests = results,
            });
        }
        else if (failure is not null)
        {
            error.WriteLine(failure);
        }

        return exitCode;
    }
}
