using KmsFarm.Node.Configuration;
using KmsFarm.Node.Hosting;
using KmsFarm.Node.Runtime;

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

if (CommandLineFlags.IsVersion(args))
{
    Console.WriteLine("KmsFarm.Node " + NodeBuild.Version);
    return 0;
}

// Bad settings and refused ones (a port in use, a database that does not exist) end as one line and a non-zero code.
return await NodeApplication.RunAsync(args, Console.Error);
