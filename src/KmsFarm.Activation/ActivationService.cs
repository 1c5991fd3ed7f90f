using System.Globalization;
using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Kms;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KmsFarm.Activation;

/// <summary>Decides activation requests: application → product group, product gate, clock check, then the product
/// group's ledger (<see cref="IProductGroupLedgers"/>: concurrent requests for one group are batched into one call) and
/// the farm identity. Every decision, success or refusal, is recorded in the store's history (refusals here, activations
/// by the group's writer). Thread-safe; dispose (or <see cref="StopAsync"/>) on shutdown so queued activations are
/// committed first.</summary>
public sealed class ActivationService : IAsyncDisposable
{
    private readonly ProductCatalog _catalog;
    private readonly IActivationStore _store;
    private readonly ActivationPolicyOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly string _nodeName;
    private readonly ILogger<ActivationService> _logger;
    private readonly ILogger _requestLog;
    private readonly Dictionary<string, CsvlkIdentity> _identities;
    private readonly Dictionary<Guid, CsvlkInfo?> _productCsvlks = [];
    private readonly Dictionary<Guid, CsvlkInfo?> _unknownProductCsvlks = [];
    private readonly Dictionary<ProductGroup, GroupCommitBatcher> _batchers = [];
    private readonly HashSet<Guid> _unknownIdsLogged = [];
    private int _stopped;

    /// <summary>The log category of event 12290 (one line per answered request): its own, so a host can turn it on
    /// without the rest of the per-request Debug lines.</summary>
    public const string RequestLogCategory = "KmsFarm.RequestLog";

    public ActivationService(
        ProductCatalog catalog,
        IActivationStore store,
        IProductGroupLedgers ledgers,
        FarmIdentity identity,
        ActivationPolicyOptions options,
        TimeProvider timeProvider,
        string nodeName,
        ILogger<ActivationService> logger,
        ILogger? requestLog = null)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(ledgers);
        ArgumentNullException.ThrowIfNull(identity);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(timeProvider);
        ArgumentException.ThrowIfNullOrWhiteSpace(nodeName);
        ArgumentNullException.ThrowIfNull(logger);
        var errors = options.Validate(catalog);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        _catalog = catalog;
        _store = store;
        _options = options;
        _timeProvider = timeProvider;
        _nodeName = nodeName;
        _logger = logger;
        _requestLog = requestLog ?? NullLogger.Instance;
        Identity = identity;
        _identities = new Dictionary<string, CsvlkIdentity>(StringComparer.OrdinalIgnoreCase);
        foreach (var csvlk in identity.Csvlks)
        {
            _identities.TryAdd(csvlk.CsvlkId, csvlk);
        }

        ResolveServedCsvlks();
        foreach (var group in Enum.GetValues<ProductGroup>())
        {
            var batchGroup = group;
            _batchers[group] = new GroupCommitBatcher(group, (attempts, ct) => ledgers.ApplyAsync(batchGroup, attempts, ct), logger);
        }
    }

    public FarmIdentity Identity { get; }

    /// <summary>The CSVLKs this service answers with: the configured ones (all when none is configured) that have an
    /// ePID in the farm identity.</summary>
    public IReadOnlyCollection<CsvlkInfo> ServedCsvlks { get; private set; } = [];

    /// <summary>The CSVLK that answers the KMS ids of <paramref name="applicationId"/> the catalog does not know: the
    /// application's fallback (its newest host key) when served, else its best-ranked served CSVLK; null when none is served.
    /// What a genuine host with that key installed shows in <c>slmgr /dlv</c>.</summary>
    public CsvlkInfo? GetHostCsvlk(Guid applicationId) => _unknownProductCsvlks.GetValueOrDefault(applicationId);

    /// <summary>Decides one decoded request from <paramref name="clientAddress"/>. Never throws for bad client input;
    /// store failures propagate so the host can close the connection and report not-ready.</summary>
    public async ValueTask<ActivationDecision> ActivateAsync(
        KmsProtocolVersion version, KmsRequest request, string clientAddress, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _stopped) != 0, this);
        var now = _timeProvider.GetUtcNow();
        var context = new RequestContext(version, request, clientAddress ?? "", now);

        if (!_catalog.TryGetApplication(request.ApplicationId, out var application))
        {
            return await RefuseAsync(context, null, KmsHResults.ProductNotSupported, "unknown application id", cancellationToken).ConfigureAwait(false);
        }

        var group = application.Group;
        if (request.RequiredClientCount > 1000)
        {
            // The protocol layer refuses this already; a direct caller gets the same answer a host gives.
            return await RefuseAsync(context, group, KmsHResults.InvalidData, "N_Policy above 1000", cancellationToken).ConfigureAwait(false);
        }

        CsvlkInfo? csvlk;
        string productName;
        if (_catalog.TryGetProduct(request.KmsCountedId, out var product))
        {
            productName = product.Name;
            if (product.ApplicationId != request.ApplicationId)
            {
                return await RefuseAsync(context, group, KmsHResults.ProductNotSupported, "application id does not match the product", cancellationToken)
                    .ConfigureAwait(false);
            }

            if (_options.RefuseRetailAndPreview && (product.IsRetail || product.IsPreview))
            {
                return await RefuseAsync(context, group, KmsHResults.ProductNotSupported, product.IsRetail ? "retail product" : "pre-release product",
                    cancellationToken).ConfigureAwait(false);
            }

            csvlk = _productCsvlks.GetValueOrDefault(product.Id);
            if (csvlk is null)
            {
                return await RefuseAsync(context, group, KmsHResults.ProductNotSupported, "no served CSVLK activates the product", cancellationToken)
                    .ConfigureAwait(false);
            }
        }
        else
        {
            productName = "unknown";
            if (_options.RefuseUnknownProducts)
            {
                return await RefuseAsync(context, group, KmsHResults.ProductNotSupported, "unknown KMS id", cancellationToken).ConfigureAwait(false);
            }

            csvlk = _unknownProductCsvlks.GetValueOrDefault(application.Id);
            if (csvlk is null)
            {
                return await RefuseAsync(context, group, KmsHResults.ProductNotSupported, "no served CSVLK for the application", cancellationToken)
                    .ConfigureAwait(false);
            }

            if (_logger.IsEnabled(LogLevel.Debug) || FirstSighting(request.KmsCountedId))
            {
                ActivationLog.UnknownProductActivated(_logger, request.KmsCountedId, request.ApplicationId, request.SkuId, context.ClientAddress, csvlk.Id);
            }
        }

        if (_options.StrictTimeCheck)
        {
            var clientTime = new DateTimeOffset(request.ClientTimeUtc, TimeSpan.Zero);
            if ((clientTime - now).Duration() > _options.MaxClockSkew)
            {
                return await RefuseAsync(context, group, KmsHResults.TimeSkew, "client clock differs too much", cancellationToken).ConfigureAwait(false);
            }
        }

        var identity = _identities[csvlk.Id];
        int required = (int)request.RequiredClientCount;
        var record = CreateRecord(context, group, KmsHResults.Success) with { Epid = identity.Epid };
        var outcome = await _batchers[group].EnqueueAsync(new ActivationAttempt(request.ClientMachineId, required, record), cancellationToken)
            .ConfigureAwait(false);

        int count = ReportedCount(outcome, _options.GetMinimumReportedCount(group));
        LogRequestProcessed(context, KmsHResults.Success, count);
        if (_logger.IsEnabled(LogLevel.Debug))
        {
            ActivationLog.Activated(_logger, context.ClientAddress, record.MachineName, request.ClientMachineId, productName, request.KmsCountedId,
                group.ToString(), count, outcome.CurrentCount, outcome.IsNewClient);
        }

        return new ActivationDecision(KmsHResults.Success, new KmsResponseFields(
            identity.Epid, (uint)count, (uint)_options.ActivationIntervalMinutes, (uint)_options.RenewalIntervalMinutes, identity.HwId));
    }

    /// <summary>The count a client is told: the real count raised to the lab floor, but never above the group cache's
    /// capacity (a genuine host cannot count more than it holds, and old clients fail with 0x80070216 when told more).
    /// A writer of an older build reports no capacity (0): then the floor is not applied.</summary>
    public static int ReportedCount(LedgerOutcome outcome, int floor) =>
        Math.Min(Math.Max(outcome.CurrentCount, floor), Math.Max(outcome.Capacity, outcome.CurrentCount));

    /// <summary>Stops accepting requests and commits the queued ones. If <paramref name="cancellationToken"/> fires
    /// first, store calls in progress are cancelled and their callers get the error.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0)
        {
            ActivationLog.Stopping(_logger);
        }

        await Task.WhenAll(_batchers.Values.Select(b => b.StopAsync(cancellationToken))).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None).ConfigureAwait(false);
        foreach (var batcher in _batchers.Values)
        {
            await batcher.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask<ActivationDecision> RefuseAsync(
        RequestContext context, ProductGroup? group, uint hresult, string reason, CancellationToken cancellationToken)
    {
        ActivationLog.Refused(_logger, context.ClientAddress, hresult, reason, context.Request.ApplicationId, context.Request.KmsCountedId);
        await _store.AppendRefusalAsync(CreateRecord(context, group, hresult), cancellationToken).ConfigureAwait(false);
        LogRequestProcessed(context, hresult, 0);
        return ActivationDecision.Refuse(hresult);
    }

    /// <summary>Event 12290, as a Windows KMS host logs each request it answered: result, count, the client's machine name,
    /// its clock, license status, VM flag and SKU. No CMID (that is in the Debug event 3000) and no key material. Written to
    /// the request log (category <see cref="RequestLogCategory"/>), which a node keeps off unless asked.</summary>
    private void LogRequestProcessed(RequestContext context, uint result, int count)
    {
        if (_requestLog.IsEnabled(LogLevel.Information))
        {
            var request = context.Request;
            // Times as ISO 8601 UTC text, so every log format (the JSON one's State too) shows them the same way.
            const string iso = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";
            ActivationLog.RequestProcessed(_requestLog, result, count, request.GetWorkstationName(), context.ClientAddress,
                context.Now.UtcDateTime.ToString(iso, CultureInfo.InvariantCulture), request.ClientTimeUtc.ToString(iso, CultureInfo.InvariantCulture),
                request.LicenseStatus, request.IsClientVm != 0, request.SkuId, (int)context.Version);
        }
    }

    /// <summary>True the first time an unknown KMS id is seen (for the first 1000 of them): it is logged at Information
    /// once, not for every client that sends it.</summary>
    private bool FirstSighting(Guid kmsCountedId)
    {
        lock (_unknownIdsLogged)
        {
            return _unknownIdsLogged.Count < 1000 && _unknownIdsLogged.Add(kmsCountedId);
        }
    }

    private ActivationRecord CreateRecord(RequestContext context, ProductGroup? group, uint result)
    {
        var request = context.Request;
        return new ActivationRecord
        {
            Time = context.Now,
            Node = _nodeName,
            ClientAddress = context.ClientAddress,
            ProtocolVersion = (int)context.Version,
            Group = group,
            ApplicationId = request.ApplicationId,
            SkuId = request.SkuId,
            KmsCountedId = request.KmsCountedId,
            ClientMachineId = request.ClientMachineId,
            MachineName = request.GetWorkstationName(),
            LicenseStatus = request.LicenseStatus,
            IsClientVm = request.IsClientVm != 0,
            RequiredClientCount = (int)Math.Min(request.RequiredClientCount, int.MaxValue),
            Result = result,
        };
    }

    /// <summary>Works out, once, which served CSVLK answers each known product and each application's unknown ids.</summary>
    private void ResolveServedCsvlks()
    {
        var configured = _options.ServedCsvlks.Count == 0
            ? _catalog.Csvlks
            : _options.ServedCsvlks.Select(_catalog.GetCsvlk).Distinct().ToArray();
        var served = new List<CsvlkInfo>();
        foreach (var csvlk in configured)
        {
            if (_identities.ContainsKey(csvlk.Id))
            {
                served.Add(csvlk);
            }
            else
            {
                ActivationLog.CsvlkWithoutIdentity(_logger, csvlk.Id);
            }
        }

        // Preference among several served CSVLKs that can answer: regular before Azure-only, lab and pre-release; newest first.
        var ranked = served.OrderBy(c => c.IsPreview).ThenBy(c => c.IsLab).ThenBy(c => c.IsAzure).ThenByDescending(c => c.ReleaseDate)
            .ThenBy(c => c.Id, StringComparer.Ordinal).ToArray();
        ServedCsvlks = ranked;
        var servedIds = served.Select(c => c.Id).ToHashSet(StringComparer.OrdinalIgnoreCase);

        foreach (var product in _catalog.Products)
        {
            _productCsvlks[product.Id] = servedIds.Contains(product.CsvlkId)
                ? _catalog.GetCsvlk(product.CsvlkId)
                : ranked.FirstOrDefault(c => c.ApplicationId == product.ApplicationId && c.CanActivate(product.Id));
        }

        foreach (var application in _catalog.Applications)
        {
            var fallback = _catalog.GetFallbackCsvlk(application.Id);
            _unknownProductCsvlks[application.Id] = servedIds.Contains(fallback.Id)
                ? fallback
                : ranked.FirstOrDefault(c => c.ApplicationId == application.Id);
        }
    }

    private readonly record struct RequestContext(KmsProtocolVersion Version, KmsRequest Request, string ClientAddress, DateTimeOffset Now);
}
