using KmsFarm.Node.Configuration;
using KmsFarm.Node.Hosting;

// KmsFarm node: KMS (DCE/RPC on TCP 1688) for clients, HTTP /healthz/* for the orchestrator.
// Everything is configured in NodeHostBuilderExtensions.AddKmsFarmNode; see `--help` for the flags.
if (CommandLineFlags.IsHelp(args))
{
    Console.WriteLine(CommandLineFlags.HelpText());
    return 0;
}

// `probe [ready|live]`: the container image's health check asks the running node (HealthProbe).
if (HealthProbe.IsProbe(args))
{
    return await HealthProbe.RunAsync(args, Console.Out, Console.Error);
}

try
{
    return await NodeApplication.RunAsync(args, Console.Error);
}
catch (Exception ex) when (ex is NotSupportedException or IOException or UnauthorizedAccessException)
{
    // Start-up failures that are the operator's to fix (store unavailable, port in use): a message, not a stack trace.
    await Console.Error.WriteLineAsync("KmsFarm node failed to start: " + ex.Message);
    return 1;
}
