using KmsFarm.Activation;
using KmsFarm.Grains;
using KmsFarm.Node.Configuration;
using KmsFarm.Node.Diagnostics;
using KmsFarm.Node.Hosting;
using KmsFarm.Node.Runtime;
using KmsFarm.Node.Storage;
using KmsFarm.Protocol.Catalog;
using Microsoft.Extensions.Options;

namespace KmsFarm.Node.Status;

/// <summary>Builds the status API's answers. Per product group: if the group's grain is activated somewhere in the farm
/// (a grain-directory lookup, which activates nothing), its own count and capacity; otherwise the store's ledger row,
/// reported as <c>not activated</c>. Asking a group's grain activates it where it is not active, and a product-group grain
/// is placed on its first caller's silo: a status call must not decide where a group nobody has used yet will live (that
/// is its first client's node). The request totals come from the store (farm-wide, kept by a trigger), the silos from
/// Orleans' membership. Only the status API calls this, never a metrics scrape.</summary>
public sealed class FarmStatusReader(
    NodeRuntime runtime,
    IGrainFactory grainFactory,
    ProductCatalog catalog,
    IOptions<ActivationPolicyOptions> policy,
    IOptions<FarmClusterOptions> cluster,
    IOptions<StoreOptions> store,
    IOptions<NodeOptions> node,
    TimeProvider timeProvider)
{
    /// <summary>How long a group's grain or the directory may take before the group is reported from the store.</summary>
    public static readonly TimeSpan GrainTimeout = TimeSpan.FromSeconds(3);

    public async Task<StatusView> ReadAsync(CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        var identity = runtime.Identity;
        var service = runtime.Service;
        var (silos, silosError) = await NodeApiEndpoints.ReadMembershipAsync(grainFactory, cancellationToken).ConfigureAwait(false);
        var totals = await runtime.Store.GetRequestTotalsAsync(cancellationToken).ConfigureAwait(false) ?? [];
        var groups = new List<GroupStatusView>();
        foreach (var application in catalog.Applications.OrderBy(a => a.Group))
        {
            var (state, host, count, capacity) = await ReadGroupAsync(application.Group, silos ?? [], now, cancellationToken).ConfigureAwait(false);
            var served = service.ServedCsvlks.Where(c => c.ApplicationId == application.Id)
                .Select(c => new CsvlkView(c.Id, c.Name, EpidOf(identity, c.Id)))
                .Where(c => c.Epid.Length > 0)
                .ToArray();
            var hostKey = service.GetHostCsvlk(application.Id);
            groups.Add(new GroupStatusView(
                application.Group.ToString(),
                application.Name,
                state,
                host,
                count,
                capacity / 2,
                capacity,
                hostKey is null ? null : EpidOf(identity, hostKey.Id),
                served,
                policy.Value.ActivationIntervalMinutes,
                policy.Value.RenewalIntervalMinutes,
                Summarise(totals.Where(t => t.Group == application.Group))));
        }

        var location = StoreLocation.Parse(store.Value.Location);
        return new StatusView(
            node.Value.Name,
            now,
            new FarmView(cluster.Value.ClusterId, location.Kind.ToString().ToLowerInvariant(), identity.HostBuild, identity.Lcid, identity.Created),
            groups,
            Summarise(totals),
            silos ?? [],
            silosError);
    }

    public async Task<ClientPageView?> ReadClientsAsync(ClientQuery query, CancellationToken cancellationToken)
    {
        var page = await runtime.Store.QueryClientsAsync(query, cancellationToken).ConfigureAwait(false);
        return page is null ? null : new ClientPageView(page.Total, query.Offset, query.Limit, page.Items.Select(c => new ClientView(
            c.Group.ToString(), c.ClientMachineId, c.MachineName, catalog.FindSku(c.SkuId.ToString())?.Name, c.SkuId, c.KmsCountedId,
            KmsMetrics.LicenseStatusTag(c.LicenseStatus), c.IsClientVm, c.FirstSeen, c.LastSeen, c.LastAddress, c.LastNode,
            c.ActivationCount)).ToArray());
    }

    public async Task<ActivationPageView?> ReadActivationsAsync(HistoryQuery query, CancellationToken cancellationToken)
    {
        var page = await runtime.Store.QueryHistoryAsync(query, cancellationToken).ConfigureAwait(false);
        return page is null ? null : new ActivationPageView(page.Items.Select(row =>
        {
            var r = row.Record;
            return new ActivationView(
                row.Id, r.Time, r.Node, r.ClientAddress, r.ProtocolVersion, r.Group?.ToString(), r.MachineName, r.ClientMachineId,
                catalog.FindSku(r.SkuId.ToString())?.Name, r.SkuId, r.KmsCountedId, KmsMetrics.LicenseStatusTag(r.LicenseStatus), r.IsClientVm,
                r.RequiredClientCount, "0x" + r.Result.ToString("X8", System.Globalization.CultureInfo.InvariantCulture), r.Result == 0,
                r.CurrentCount, r.Epid);
        }).ToArray(), page.Next);
    }

    private async Task<(string State, string? Host, int Count, int Capacity)> ReadGroupAsync(
        ProductGroup group, IReadOnlyList<NodeView> silos, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var grain = grainFactory.GetGrain<IProductGroupGrain>(ProductGroupGrainKey.For(group));
        string state = "not activated";
        try
        {
            var management = grainFactory.GetGrain<IManagementGrain>(0);
            var address = await management.GetActivationAddress(grain, cancellationToken).AsTask().WaitAsync(GrainTimeout, cancellationToken).ConfigureAwait(false);
            if (address is not null)
            {
                // Already activated there: this call only reads what it holds.
                var status = await grain.GetStatusAsync().WaitAsync(GrainTimeout, cancellationToken).ConfigureAwait(false);
                string endpoint = address.Endpoint.ToString();
                string? host = silos.FirstOrDefault(s => s.Address == endpoint && s.Status == "Active")?.Name ?? endpoint;
                return ("active", host, status.Count, status.Capacity);
            }
        }
        catch (Exception ex) when (ex is TimeoutException or OrleansException or InvalidOperationException)
        {
            // Moving between silos, or its silo does not answer: the store has what was committed.
            state = "unavailable";
        }

        var ledger = await runtime.Store.GetLedgerAsync(group, now, cancellationToken).ConfigureAwait(false);
        return (state, null, ledger.Count, ledger.Capacity);
    }

    private static string EpidOf(FarmIdentity identity, string csvlkId) =>
        identity.Csvlks.FirstOrDefault(c => string.Equals(c.CsvlkId, csvlkId, StringComparison.OrdinalIgnoreCase))?.Epid ?? string.Empty;

    private static RequestTotalsView Summarise(IEnumerable<RequestTotal> totals)
    {
        long activated = 0, failed = 0;
        var byStatus = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var total in totals)
        {
            if (total.Failed)
            {
                failed += total.Requests;
            }
            else
            {
                activated += total.Requests;
            }

            string status = KmsMetrics.LicenseStatusTag(total.LicenseStatus);
            byStatus[status] = byStatus.GetValueOrDefault(status) + total.Requests;
        }

        return new RequestTotalsView(activated + failed, activated, failed, byStatus);
    }
}
