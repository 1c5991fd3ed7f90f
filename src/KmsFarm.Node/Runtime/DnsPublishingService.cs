using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using KmsFarm.DnsSrv;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Node.Hosting;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Runtime;

/// <summary>Publishes this node as a KMS host in DNS, as a Windows KMS host does: once the KMS listener is bound, a
/// <c>_vlmcs._tcp.DOMAIN</c> SRV record (bound port, configured priority and weight) and the target's A/AAAA records
/// in every configured domain, by dynamic update to <see cref="DnsPublishingOptions.Server"/>; again every
/// <see cref="DnsPublishingOptions.RefreshInterval"/>; removed again on graceful stop. Success is logged with event id
/// 12294 and failure with 12293 (the Windows ids), with the domain, the server and the DNS response code. Nothing here
/// ever stops the node.</summary>
/// <remarks>
/// <para>The port and addresses are those of the first KMS endpoint as bound (<see cref="NodeEndpoints"/>), with every
/// endpoint on that port contributing its address; a wildcard endpoint (0.0.0.0, [::]) contributes the machine's
/// addresses of that family other than loopback and link-local.</para>
/// <para>The records are removed in StoppingAsync, while the node still serves, so clients stop finding it before it
/// stops answering. A domain is withdrawn only if this node published it (or was interrupted while publishing it).</para>
/// </remarks>
internal sealed class DnsPublishingService(
    IOptions<DnsPublishingOptions> options,
    NodeEndpoints endpoints,
    TimeProvider timeProvider,
    ILogger<DnsPublishingService> logger) : IHostedLifecycleService, IDisposable
{
    private static readonly TimeSpan MaxRetryInterval = TimeSpan.FromMinutes(5);

    /// <summary>How long a graceful stop waits for the records to be removed.</summary>
    private static readonly TimeSpan WithdrawTimeout = TimeSpan.FromSeconds(10);

    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly HashSet<string> _toWithdraw = new(StringComparer.Ordinal);
    private IReadOnlyList<SrvRegistration> _registrations = [];
    private DnsServerAddress? _server;
    private TsigKey? _key;
    private Task? _loop;

    /// <summary>What this node publishes (empty before start or when publishing is off).</summary>
    public IReadOnlyList<SrvRegistration> Registrations => _registrations;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        var kms = endpoints.KmsEndPoints;
        if (!o.Enabled || kms.Count == 0)
        {
            return Task.CompletedTask;
        }

        // Validated at start-up (DnsPublishingOptionsValidator), so parsing cannot fail here.
        _server = DnsServerAddress.Parse(o.Server!);
        _key = string.IsNullOrWhiteSpace(o.TsigKeyFile) ? null : TsigKeyFile.Load(o.TsigKeyFile);
        int port = kms[0].Port;
        var addresses = AddressesFor(kms, port);
        _registrations = o.Publish
            .Select(text => DnsPublishEntry.TryParse(text, out var entry, out _) ? entry : throw new InvalidOperationException(text))
            .Select(e => new SrvRegistration(e.Domain, e.Priority, e.Weight, (ushort)port, e.TargetFor(o.HostName), addresses, o.Ttl))
            .ToList();
        logger.DnsPublishingStarted(
            string.Join(", ", _registrations.Select(r => r.ToString())), _server.ToString(), port,
            _key is null ? "unsigned" : "signed with TSIG key " + _key, o.Ttl, o.RefreshInterval);
        _loop = PublishLoopAsync(_stop.Token);
        return Task.CompletedTask;
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is { } loop)
        {
            await loop.WaitAsync(cancellationToken).ConfigureAwait(false);
            await WithdrawAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose() => _stop.Dispose();

    /// <summary>The addresses to publish for <paramref name="port"/>: each bound address, a wildcard replaced by the
    /// machine's own addresses of its family.</summary>
    internal static IReadOnlyList<IPAddress> AddressesFor(IReadOnlyList<IPEndPoint> bound, int port) =>
        bound.Where(e => e.Port == port)
            .SelectMany(e => e.Address.Equals(IPAddress.Any) || e.Address.Equals(IPAddress.IPv6Any) ? MachineAddresses(e.AddressFamily) : [e.Address])
            .Distinct()
            .ToList();

    private static IEnumerable<IPAddress> MachineAddresses(AddressFamily family) =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up && n.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(u => u.Address)
            .Where(a => a.AddressFamily == family && !IPAddress.IsLoopback(a) && !a.IsIPv6LinkLocal)
            .Select(a => a.AddressFamily == AddressFamily.InterNetworkV6 ? new IPAddress(a.GetAddressBytes()) : a);

    private TimeSpan RetryInterval => options.Value.RefreshInterval < MaxRetryInterval ? options.Value.RefreshInterval : MaxRetryInterval;

    private async Task PublishLoopAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                bool published = await PublishAllAsync(cancellationToken).ConfigureAwait(false);
                await Task.Delay(published ? options.Value.RefreshInterval : RetryInterval, timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    /// <summary>One round over every domain; true when all of them were published.</summary>
    private async Task<bool> PublishAllAsync(CancellationToken cancellationToken)
    {
        string server = _server!.ToString();
        SrvPublisher publisher;
        try
        {
            publisher = await SrvPublisher.CreateAsync(_server, _key, SrvPublisher.DefaultTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The server's name does not resolve (DnsLookupException), or anything else: never a reason to stop.
            string code = ex is DnsLookupException ? DnsResponseCodes.NoResponse : "ERROR";
            foreach (var registration in _registrations)
            {
                logger.DnsPublishFailed(registration.Domain, server, code, ex.Message, RetryInterval);
            }

            return false;
        }

        bool all = true;
        using (publisher)
        {
            foreach (var registration in _registrations)
            {
                DnsUpdateResult result;
                try
                {
                    result = await publisher.PublishAsync(registration, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // The update may have reached the server: remove it on the way out.
                    MarkForWithdrawal(registration);
                    throw;
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    result = new DnsUpdateResult(false, "ERROR", null, ex.Message);
                }

                if (result.Succeeded)
                {
                    MarkForWithdrawal(registration);
                    logger.DnsPublished(registration.Domain, server, result.Code, result.Detail);
                }
                else
                {
                    all = false;
                    logger.DnsPublishFailed(registration.Domain, server, result.Code, result.Detail, RetryInterval);
                }
            }
        }

        return all;
    }

    private void MarkForWithdrawal(SrvRegistration registration)
    {
        lock (_lock)
        {
            _toWithdraw.Add(registration.Domain);
        }
    }

    private async Task WithdrawAsync(CancellationToken cancellationToken)
    {
        List<SrvRegistration> published;
        lock (_lock)
        {
            published = _registrations.Where(r => _toWithdraw.Contains(r.Domain)).ToList();
        }

        if (published.Count == 0)
        {
            return;
        }

        string server = _server!.ToString();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(WithdrawTimeout);
        var pending = new Queue<SrvRegistration>(published);
        try
        {
            using var publisher = await SrvPublisher.CreateAsync(_server, _key, SrvPublisher.DefaultTimeout, timeout.Token).ConfigureAwait(false);
            while (pending.TryPeek(out var registration))
            {
                var result = await publisher.WithdrawAsync(registration, timeout.Token).ConfigureAwait(false);
                pending.Dequeue();
                if (result.Succeeded)
                {
                    logger.DnsWithdrawn(registration.Domain, server, result.Detail);
                }
                else
                {
                    logger.DnsWithdrawFailed(registration.Domain, server, result.Code, result.Detail);
                }
            }
        }
        catch (Exception ex)
        {
            // Stopping goes on whatever happens here; the records then expire from caches after their TTL.
            (string code, string reason) = ex switch
            {
                OperationCanceledException => ("TIMEOUT", $"not done within {WithdrawTimeout.TotalSeconds:0} s of stopping"),
                DnsLookupException => (DnsResponseCodes.NoResponse, ex.Message),
                _ => ("ERROR", ex.Message),
            };
            foreach (var registration in pending)
            {
                logger.DnsWithdrawFailed(registration.Domain, server, code, reason);
            }
        }
    }
}
