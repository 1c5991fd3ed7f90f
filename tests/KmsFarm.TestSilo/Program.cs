using KmsFarm.TestSilo;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// dotnet KmsFarm.TestSilo.dll --ConnectionString=… --ClusterId=… --SiloPort=N [--Name=…] [--ServiceId=…] [--OrleansDefaults=true]
// Prints "ready <silo address>" once the silo is active, warnings and errors on stderr, and runs until stopped or killed.
var options = new ConfigurationBuilder().AddCommandLine(args).Build().Get<TestSiloOptions>()
    ?? throw new ArgumentException("Arguments: --ConnectionString=… --ClusterId=… --SiloPort=N");
using var host = TestSiloHost.Build(options, logging => logging
    .AddSimpleConsole(o => o.SingleLine = true)
    .AddFilter(level => level >= LogLevel.Warning)
    .Services.Configure<Microsoft.Extensions.Logging.Console.ConsoleLoggerOptions>(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
await host.StartAsync();
Console.WriteLine("ready " + host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress.ToParsableString());
await host.WaitForShutdownAsync();
