using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Kms;
using KmsFarm.Protocol.Rpc;

namespace KmsFarm.Client.Load;

/// <summary>Drives a simulated population against one or more KMS hosts for a fixed duration. Each machine behaves like a
/// Windows client: it tries the host that answered it last first, else its own order of the hosts (machine i starts at
/// host i mod H; with hosts found in DNS, its own RFC 2782 order), fails over while a host does not answer (connect
/// failure or timeout) and keeps the host that answered (LoadGenerator.Hosts.cs). A host that did not answer is tried
/// again only after a backoff shared by all machines (<see cref="HostBackoff"/>), so a dead or frozen host costs a
/// timeout now and then, not on every request.</summary>
public sealed partial class LoadGenerator
{
    private readonly LoadSettings _settings;
    private readonly MachinePopulation _population;
    private readonly Stopwatch _clock = new();
    private readonly long[] _errors = new long[Enum.GetValues<LoadErrorKind>().Length];
    private readonly ConcurrentDictionary<uint, long> _refusedByHResult = new();
    private readonly long[] _hostActivations;
    private readonly long[] _hostErrors;
    private readonly Lock _activatedLock = new();
    private readonly List<int> _activated = [];
    private readonly int[] _activatedVia; // host index + 1 of the first successful activation, 0 = never activated
    private readonly RatePacer? _pacer;
    private readonly int[] _kept; // host index + 1 that answered machine i last, 0 = none yet
    private readonly Dictionary<DnsSrv.SrvTarget, int>? _hostOfRecord;
    private readonly int[] _failedOver; // 1 once machine i was answered by a host other than its first choice
    private readonly string[] _hostNames;
    private readonly HostBackoff _backoff;
    private readonly ConcurrentQueue<AcknowledgedActivation>? _acknowledged;
    private readonly LiveLatencyHistogram _liveLatency = new();
    private readonly ProductGroup[] _groups;
    private readonly long[] _groupActivations = new long[Enum.GetValues<ProductGroup>().Length];
    private readonly long[] _groupLastCount = new long[Enum.GetValues<ProductGroup>().Length]; // count + 1, 0 = none yet
    private int _nextNew;
    private long _requests;
    private long _activations;
    private long _firstActivations;
    private long _renewals;
    private long _refused;
    private long _failed;
    private long _failovers;
    private long _belowNPolicy;
    private long _ndr32;
    private long _ndr64;

    /// <param name="time">The clock of the hosts' backoff (tests move it by hand); the system clock by default.</param>
    public LoadGenerator(LoadSettings settings, MachinePopulation population, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfZero(settings.Hosts.Count, nameof(settings));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(settings.Concurrency, nameof(settings));
        _settings = settings;
        _population = population;
        _hostActivations = new long[settings.Hosts.Count];
        _hostErrors = new long[settings.Hosts.Count];
        _activatedVia = new int[population.Count];
        _failedOver = new int[population.Count];
        _kept = new int[population.Count];
        _hostNames = settings.Hosts.Select(h => h.ToString()).ToArray();
        _backoff = new HostBackoff(time);
        _acknowledged = settings.KeepAcknowledged ? new ConcurrentQueue<AcknowledgedActivation>() : null;
        _pacer = settings.Rate is { } rate ? new RatePacer(rate) : null;
        _groups = population.Mix.Entries.Select(e => e.Product.Group).Distinct().Order().ToArray();
        if (settings.SrvRecords is { } records)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(records.Count, settings.Hosts.Count, nameof(settings));
            _hostOfRecord = new Dictionary<DnsSrv.SrvTarget, int>(ReferenceEqualityComparer.Instance);
            for (int h = 0; h < records.Count; h++)
            {
                _hostOfRecord[records[h]] = h;
            }
        }
    }

    /// <summary>Every activation a host answered, when <see cref="LoadSettings.KeepAcknowledged"/> is set (else empty), in
    /// the order they were answered.</summary>
    public IReadOnlyCollection<AcknowledgedActivation> Acknowledged => (IReadOnlyCollection<AcknowledgedActivation>?)_acknowledged ?? [];

    /// <summary>A consistent-enough snapshot for the live progress display.</summary>
    public LoadProgress GetProgress() => new(
        _clock.Elapsed,
        Interlocked.Read(ref _requests),
        Interlocked.Read(ref _activations),
        SumErrors())
    {
        Refused = Interlocked.Read(ref _refused),
        Failed = Interlocked.Read(ref _failed),
        ErrorsByKind = _errors.Select((_, k) => Interlocked.Read(ref _errors[k])).ToArray(),
        Groups = _groups.Select(g => new GroupProgress(
            g, Interlocked.Read(ref _groupActivations[(int)g]), Interlocked.Read(ref _groupLastCount[(int)g]) is var c and > 0 ? c - 1 : null)).ToArray(),
        LatencyBuckets = _liveLatency.Snapshot(),
    };

    private long SumErrors()
    {
        long sum = 0;
        for (int i = 0; i < _errors.Length; i++)
        {
            sum += Interlocked.Read(ref _errors[i]);
        }

        return sum;
    }

    public async Task<LoadReport> RunAsync(CancellationToken cancellationToken)
    {
        int perWorker = Math.Max(1024, _settings.LatencySampleCapacity / _settings.Concurrency);
        var recorders = Enumerable.Range(0, _settings.Concurrency).Select(i => new LatencyRecorder(perWorker, unchecked((int)_settings.Seed + i))).ToArray();
        _clock.Restart();
        var workers = recorders.Select((r, i) => Task.Run(() => WorkerAsync(i, r, cancellationToken), CancellationToken.None)).ToArray();
        await Task.WhenAll(workers).ConfigureAwait(false);
        _clock.Stop();
        var elapsed = _clock.Elapsed;

        var hosts = new List<HostLoadReport>();
        for (int h = 0; h < _settings.Hosts.Count; h++)
        {
            // After an interruption the report is still written, without asking the hosts for their counts.
            IReadOnlyList<GroupCountReport> counts = cancellationToken.IsCancellationRequested
                ? []
                : await QueryCountsAsync(h, cancellationToken).ConfigureAwait(false);
            hosts.Add(new HostLoadReport(_settings.Hosts[h].ToString(), _hostActivations[h], _hostErrors[h], counts));
        }

        long activations = Interlocked.Read(ref _activations);
        return new LoadReport(
            elapsed,
            _population.Count,
            _settings.Concurrency,
            _population.Mix.Name,
            _population.Seed,
            _requests,
            activations,
            _firstActivations,
            _renewals,
            _refused,
            _failed,
            _failovers,
            _belowNPolicy,
            _ndr32,
            _ndr64,
            _activated.Count,
            elapsed > TimeSpan.Zero ? activations / elapsed.TotalSeconds : 0,
            LatencyRecorder.Summarise(recorders),
            Enum.GetValues<LoadErrorKind>().ToDictionary(k => k, k => _errors[(int)k]),
            _refusedByHResult.OrderBy(p => p.Key).ToDictionary(p => HResultText.Format(p.Key), p => p.Value),
            hosts,
            _settings.Rate,
            _failedOver.Sum());
    }

    private async Task WorkerAsync(int worker, LatencyRecorder latency, CancellationToken cancellationToken)
    {
        var random = new Random(HashCode.Combine(_settings.Seed, worker));
        var connections = new KmsClientConnection?[_settings.Hosts.Count];
        try
        {
            while (_clock.Elapsed < _settings.Duration && !cancellationToken.IsCancellationRequested)
            {
                if (_pacer is not null && !await WaitForSlotAsync(_pacer, cancellationToken).ConfigureAwait(false))
                {
                    break;
                }

                var (index, renewal) = ChooseMachine(random);
                Interlocked.Increment(ref _requests);
                if (!await SendAsync(index, renewal, connections, latency, cancellationToken).ConfigureAwait(false))
                {
                    Interlocked.Increment(ref _failed);
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Stopped by the caller; the interrupted request is neither an activation nor an error.
            Interlocked.Decrement(ref _requests);
        }
        finally
        {
            foreach (var connection in connections)
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
    }

    /// <summary>Waits until this worker's next paced slot is due. False when the slot falls after the end of the run.</summary>
    private async ValueTask<bool> WaitForSlotAsync(RatePacer pacer, CancellationToken cancellationToken)
    {
        var due = pacer.Reserve();
        if (due >= _settings.Duration)
        {
            return false;
        }

        var delay = RatePacer.DelayUntil(due, _clock.Elapsed);
        if (delay > TimeSpan.Zero)
        {
            await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>Sends machine <paramref name="index"/>'s request: to the host it kept, else in its own order, hosts backing
    /// off last, failing over while a host does not answer. True when a host answered (activation or refusal).</summary>
    private async Task<bool> SendAsync(int index, bool renewal, KmsClientConnection?[] connections, LatencyRecorder latency, CancellationToken cancellationToken)
    {
        var machine = _population[index];
        var version = _settings.Protocol ?? machine.Product.DefaultProtocol;
        int kept = Volatile.Read(ref _kept[index]) - 1;
        bool hostFailed = false;
        foreach (int h in _backoff.Order(Preferred(index, kept), host => _hostNames[host]))
        {
            if (hostFailed)
            {
                Interlocked.Increment(ref _failovers);
            }

            var (outcome, result) = await TryHostAsync(h, machine, version, renewal, connections, cancellationToken).ConfigureAwait(false);
            if (outcome == HostOutcome.HostDown)
            {
                _backoff.RecordFailure(_hostNames[h]);
                hostFailed = true;
                continue;
            }

            if (outcome == HostOutcome.RequestFailed)
            {
                return false;
            }

            _backoff.RecordSuccess(_hostNames[h]);
            Interlocked.Increment(ref result!.TransferSyntax == RpcTransferSyntax.Ndr64 ? ref _ndr64 : ref _ndr32);
            Keep(index, h);
            if (h != (kept >= 0 ? kept : FirstChoice(index)))
            {
                Volatile.Write(ref _failedOver[index], 1);
            }

            if (!result.Succeeded)
            {
                Interlocked.Increment(ref _refused);
                _refusedByHResult.AddOrUpdate(result.HResult, 1, (_, n) => n + 1);
                RecordError(h, LoadErrorKind.Refused);
                return true;
            }

            latency.Record(result.Elapsed);
            _liveLatency.Record(result.Elapsed);
            RecordActivation(index, h, renewal, result.Response!);
            return true;
        }

        return false;
    }

    /// <summary>One request to host <paramref name="h"/> on the worker's connection to it (opened if needed). A kept
    /// connection the host has closed since (idle timeout, connection lifetime, restart) is replaced once by a new one,
    /// as an HTTP client retries on a stale keep-alive connection: KMS requests are idempotent per machine.</summary>
    private async Task<(HostOutcome Outcome, KmsActivationResult? Result)> TryHostAsync(
        int h,
        KmsClientMachine machine,
        KmsProtocolVersion version,
        bool renewal,
        KmsClientConnection?[] connections,
        CancellationToken cancellationToken)
    {
        for (int round = 0; ; round++)
        {
            var connection = connections[h];
            bool reused = connection is not null;
            try
            {
                if (connection is null)
                {
                    var endpoint = _settings.Hosts[h];
                    connection = await KmsClientConnection.ConnectAsync(endpoint.Host, endpoint.Port, _settings.ClientOptions, cancellationToken).ConfigureAwait(false);
                    connections[h] = connection;
                }

                var request = machine.CreateRequest(version, DateTime.UtcNow, renewal ? KmsRequestFactory.LicensedStatus : KmsRequestFactory.DefaultLicenseStatus);
                return (HostOutcome.Answered, await connection.ActivateAsync(version, request, cancellationToken).ConfigureAwait(false));
            }
            catch (KmsConnectException ex)
            {
                RecordError(h, ex.IsTimeout ? LoadErrorKind.Timeout : LoadErrorKind.Connect);
                return (HostOutcome.HostDown, null);
            }
            catch (TimeoutException)
            {
                RecordError(h, LoadErrorKind.Timeout);
                await DropAsync(connections, h).ConfigureAwait(false);
                return (HostOutcome.HostDown, null);
            }
            catch (KmsProtocolException)
            {
                RecordError(h, LoadErrorKind.Protocol);
                await DropAsync(connections, h).ConfigureAwait(false);
                return (HostOutcome.RequestFailed, null);
            }
            catch (Exception ex) when (ex is IOException or SocketException && reused && round == 0)
            {
                await DropAsync(connections, h).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException)
            {
                RecordError(h, LoadErrorKind.ConnectionLost);
                await DropAsync(connections, h).ConfigureAwait(false);
                return (HostOutcome.RequestFailed, null);
            }
            finally
            {
                if (_settings.NewConnectionPerActivation)
                {
                    await DropAsync(connections, h).ConfigureAwait(false);
                }
            }
        }
    }

    private static async ValueTask DropAsync(KmsClientConnection?[] connections, int host)
    {
        if (connections[host] is { } connection)
        {
            connections[host] = null;
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }

    private void RecordError(int host, LoadErrorKind kind)
    {
        Interlocked.Increment(ref _errors[(int)kind]);
        Interlocked.Increment(ref _hostErrors[host]);
    }

    private void RecordActivation(int index, int host, bool renewal, KmsResponse response)
    {
        Interlocked.Increment(ref _activations);
        Interlocked.Increment(ref _hostActivations[host]);
        Interlocked.Increment(ref renewal ? ref _renewals : ref _firstActivations);
        int group = (int)_population[index].Product.Group;
        Interlocked.Increment(ref _groupActivations[group]);
        Interlocked.Exchange(ref _groupLastCount[group], response.CurrentCount + 1L);
        _acknowledged?.Enqueue(new AcknowledgedActivation(_population[index].ClientMachineId, _population[index].Product.Group, response.CurrentCount, host));
        if (response.CurrentCount < _population[index].Product.RequiredClientCount)
        {
            Interlocked.Increment(ref _belowNPolicy);
        }

        if (Interlocked.CompareExchange(ref _activatedVia[index], host + 1, 0) == 0)
        {
            lock (_activatedLock)
            {
                _activated.Add(index);
            }
        }
    }

    /// <summary>A new machine with probability 1 - renewal ratio (while any is left), else an activated one.</summary>
    private (int Index, bool Renewal) ChooseMachine(Random random)
    {
        bool wantRenewal = random.NextDouble() < _settings.RenewalRatio;
        if (!wantRenewal && TryTakeNew(out int fresh))
        {
            return (fresh, false);
        }

        lock (_activatedLock)
        {
            if (_activated.Count > 0)
            {
                return (_activated[random.Next(_activated.Count)], true);
            }
        }

        // Nothing activated yet: start a new machine, or retry a random one if all have been tried.
        return TryTakeNew(out fresh) ? (fresh, false) : (random.Next(_population.Count), false);
    }

    private bool TryTakeNew(out int index)
    {
        while (true)
        {
            index = Volatile.Read(ref _nextNew);
            if (index >= _population.Count)
            {
                return false;
            }

            if (Interlocked.CompareExchange(ref _nextNew, index + 1, index) == index)
            {
                return true;
            }
        }
    }
}
