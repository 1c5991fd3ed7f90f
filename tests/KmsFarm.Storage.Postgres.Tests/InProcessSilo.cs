using System.Net.Sockets;
using KmsFarm.TestKit;
using KmsFarm.TestSilo;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>A silo in the test process: KmsFarm.TestSilo's host (AdoNet clustering on the test database, no gateway) on a
/// free loopback port from <see cref="LoopbackPorts"/>. A port taken between choosing and binding it is retried.</summary>
internal sealed class InProcessSilo : IAsyncDisposable
{
    private readonly IHost _host;
    private bool _stopped;

    private InProcessSilo(IHost host, string name, SiloLog log)
    {
        _host = host;
        Name = name;
        Log = log;
        Address = host.Services.GetRequiredService<ILocalSiloDetails>().SiloAddress;
    }

    public string Name { get; }

    public SiloAddress Address { get; }

    public SiloLog Log { get; }

    public IServiceProvider Services => _host.Services;

    /// <summary>The silo's own grain factory: grains are reached without a gateway or a client.</summary>
    public IGrainFactory Grains => _host.Services.GetRequiredService<IGrainFactory>();

    /// <summary>True until the host begins to stop (Orleans stops the host of a silo that finds itself declared dead).</summary>
    public bool IsRunning => !_stopped && !_host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested;

    public static async Task<InProcessSilo> StartAsync(string connectionString, string clusterId, string name,
        CancellationToken cancellationToken, bool orleansDefaults = false)
    {
        for (int attempt = 1; ; attempt++)
        {
            var log = new SiloLog();
            var options = new TestSiloOptions
            {
                ConnectionString = connectionString,
                ClusterId = clusterId,
                Name = name,
                SiloPort = LoopbackPorts.Free(),
                OrleansDefaults = orleansDefaults,
            };
            var host = TestSiloHost.Build(options, logging => logging.AddProvider(log));
            try
            {
                await host.StartAsync(cancellationToken);
                return new InProcessSilo(host, name, log);
            }
            catch (Exception ex) when (attempt < 3 && IsPortTaken(ex))
            {
                host.Dispose();
            }
            catch
            {
                host.Dispose();
                throw;
            }
        }
    }

    /// <summary>Graceful stop: the silo announces that it leaves (ShuttingDown, then Dead in the table).</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _stopped = true;
        await _host.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopped)
        {
            _stopped = true;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _host.StopAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                // Disposed regardless below.
            }
        }

        _host.Dispose();
    }

    public override string ToString() => $"{Name} {Address}";

    private static bool IsPortTaken(Exception exception) => exception switch
    {
        SocketException { SocketErrorCode: SocketError.AddressAlreadyInUse } => true,
        AggregateException aggregate => aggregate.InnerExceptions.Any(IsPortTaken),
        { InnerException: { } inner } => IsPortTaken(inner),
        _ => false,
    };
}
