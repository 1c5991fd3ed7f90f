using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;
using ARSoft.Tools.Net.Dns.DynamicUpdate;

namespace KmsFarm.DnsSrv;

/// <summary>Publishes and withdraws a KMS host's SRV record and its target's A/AAAA records on one DNS server by RFC 2136
/// dynamic update, signed with a TSIG key when one is given (RFC 8945), the way a Windows KMS host registers itself.</summary>
/// <remarks>
/// <para>The zone of each name is found as RFC 2136 §4 says: an SOA query for the name, whose answer or authority
/// section names the zone. When the SRV name and the target share a zone, one update carries both (atomic); otherwise
/// the address records go first, so the SRV record never points at a name without addresses.</para>
/// <para>"Ours" is the SRV record with our target and port: publishing replaces ours when its priority or weight
/// changed, withdrawing deletes only ours. Other hosts' records in the same RRset are never touched. The target's
/// address records are removed on withdrawal only when no SRV record in the domain still names that target (two nodes
/// on one machine share it).</para>
/// <para>Each method returns a <see cref="DnsUpdateResult"/> rather than throwing for what the server says, so the
/// caller can log the response code; it throws only <see cref="OperationCanceledException"/>.</para>
/// </remarks>
public sealed class SrvPublisher : IDisposable
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Permitted clock difference with the server (RFC 8945 recommends 300 s).</summary>
    private static readonly TimeSpan Fudge = TimeSpan.FromSeconds(300);

    private readonly DnsConnection _dns;
    private readonly TsigKey? _key;

    private SrvPublisher(DnsConnection dns, TsigKey? key)
    {
        _dns = dns;
        _key = key;
    }

    /// <summary>The server, as given.</summary>
    public string Server => _dns.Server;

    /// <exception cref="DnsLookupException">The server's name does not resolve.</exception>
    public static async Task<SrvPublisher> CreateAsync(DnsServerAddress server, TsigKey? key, TimeSpan timeout, CancellationToken cancellationToken) =>
        new(await DnsConnection.OpenAsync(server, timeout, cancellationToken).ConfigureAwait(false), key);

    /// <summary>Adds (or refreshes) the SRV record and the target's address records.</summary>
    public async Task<DnsUpdateResult> PublishAsync(SrvRegistration registration, CancellationToken cancellationToken)
    {
        var service = DomainName.Parse(registration.ServiceName);
        var target = DomainName.Parse(DnsNames.Normalize(registration.Target));
        int ttl = (int)Math.Clamp(registration.Ttl.TotalSeconds, 0, int.MaxValue);

        var (serviceZone, failure) = await FindZoneAsync(service, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            return failure;
        }

        DomainName? targetZone = null;
        if (registration.Addresses.Count > 0)
        {
            (targetZone, failure) = await FindZoneAsync(target, cancellationToken).ConfigureAwait(false);
            if (failure is not null)
            {
                return failure;
            }
        }

        (var existing, failure) = await QuerySrvAsync(service, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            return failure;
        }

        var srvUpdates = new List<UpdateBase>();
        foreach (var stale in existing.Where(r => IsOurs(r, target, registration.Port) && (r.Priority != registration.Priority || r.Weight != registration.Weight)))
        {
            srvUpdates.Add(new DeleteRecordUpdate(stale));
        }

        srvUpdates.Add(new AddRecordUpdate(new SrvRecord(service, ttl, registration.Priority, registration.Weight, registration.Port, target)));
        var addressUpdates = registration.Addresses.Select(a => (UpdateBase)new AddRecordUpdate(AddressRecord(target, ttl, a))).ToList();

        DnsUpdateResult result;
        if (targetZone is null || targetZone.Equals(serviceZone))
        {
            result = await SendAsync(serviceZone!, [.. addressUpdates, .. srvUpdates], cancellationToken).ConfigureAwait(false);
        }
        else
        {
            result = await SendAsync(targetZone, addressUpdates, cancellationToken).ConfigureAwait(false);
            if (result.Succeeded)
            {
                result = await SendAsync(serviceZone!, srvUpdates, cancellationToken).ConfigureAwait(false);
            }
        }

        return result.Succeeded
            ? DnsUpdateResult.Success($"{registration} and {Describe(registration.Addresses)} in zone {ZoneText(serviceZone!)}")
            : result;
    }

    /// <summary>Deletes this host's SRV record (its target and port, whatever priority and weight it has) and, when no
    /// SRV record of the domain names the target any more, the target's address records given in the registration.</summary>
    public async Task<DnsUpdateResult> WithdrawAsync(SrvRegistration registration, CancellationToken cancellationToken)
    {
        var service = DomainName.Parse(registration.ServiceName);
        var target = DomainName.Parse(DnsNames.Normalize(registration.Target));

        var (serviceZone, failure) = await FindZoneAsync(service, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            return failure;
        }

        (var existing, failure) = await QuerySrvAsync(service, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            return failure;
        }

        var ours = existing.Where(r => IsOurs(r, target, registration.Port)).ToList();
        if (!ours.Any(r => r.Priority == registration.Priority && r.Weight == registration.Weight))
        {
            // Deleting an absent record is a no-op for the server; sending it covers a record added after the query.
            ours.Add(new SrvRecord(service, 0, registration.Priority, registration.Weight, registration.Port, target));
        }

        var result = await SendAsync(serviceZone!, ours.Select(r => (UpdateBase)new DeleteRecordUpdate(r)).ToList(), cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded || registration.Addresses.Count == 0)
        {
            return result.Succeeded ? DnsUpdateResult.Success($"removed {registration}") : result;
        }

        (var remaining, failure) = await QuerySrvAsync(service, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            return failure;
        }

        if (remaining.Any(r => r.Target.Equals(target)))
        {
            return DnsUpdateResult.Success(
                $"removed {registration}; kept the address records of {DnsNames.Normalize(registration.Target)}, which another SRV record still names");
        }

        (var targetZone, failure) = await FindZoneAsync(target, cancellationToken).ConfigureAwait(false);
        if (failure is not null)
        {
            return failure;
        }

        var deletes = registration.Addresses.Select(a => (UpdateBase)new DeleteRecordUpdate(AddressRecord(target, 0, a))).ToList();
        result = await SendAsync(targetZone!, deletes, cancellationToken).ConfigureAwait(false);
        return result.Succeeded ? DnsUpdateResult.Success($"removed {registration} and {Describe(registration.Addresses)}") : result;
    }

    public void Dispose() => _dns.Dispose();

    private static bool IsOurs(SrvRecord record, DomainName target, ushort port) => record.Port == port && record.Target.Equals(target);

    private static DnsRecordBase AddressRecord(DomainName name, int ttl, IPAddress address) =>
        address.AddressFamily == AddressFamily.InterNetworkV6 ? new AaaaRecord(name, ttl, address) : new ARecord(name, ttl, address);

    private static string Describe(IReadOnlyList<IPAddress> addresses) =>
        addresses.Count == 0 ? "no address record" : "address record(s) " + string.Join(", ", addresses);

    private static string ZoneText(DomainName zone) => DnsNames.Normalize(zone.ToString());

    private async Task<(DomainName? Zone, DnsUpdateResult? Failure)> FindZoneAsync(DomainName name, CancellationToken cancellationToken)
    {
        var response = await _dns.QueryAsync(name, RecordType.Soa, recursionDesired: false, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return (null, DnsUpdateResult.Failure(DnsResponseCodes.NoResponse, $"finding the zone of {ZoneText(name)}: {_dns.NoAnswer}"));
        }

        if (response.ReturnCode is ReturnCode.NoError or ReturnCode.NxDomain)
        {
            var soa = response.AnswerRecords.OfType<SoaRecord>().FirstOrDefault(r => r.Name.Equals(name))
                ?? response.AuthorityRecords.OfType<SoaRecord>().FirstOrDefault();
            if (soa is not null && name.IsEqualOrSubDomainOf(soa.Name))
            {
                return (soa.Name, null);
            }
        }

        string code = DnsResponseCodes.Name((int)response.ReturnCode);
        return (null, DnsUpdateResult.Failure(
            code, $"{_dns.Server} named no zone for {ZoneText(name)} (SOA query answered {code}); is it authoritative for that domain?"));
    }

    private async Task<(IReadOnlyList<SrvRecord> Records, DnsUpdateResult? Failure)> QuerySrvAsync(DomainName service, CancellationToken cancellationToken)
    {
        var response = await _dns.QueryAsync(service, RecordType.Srv, recursionDesired: false, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return ([], DnsUpdateResult.Failure(DnsResponseCodes.NoResponse, $"reading {ZoneText(service)}: {_dns.NoAnswer}"));
        }

        if (response.ReturnCode is not (ReturnCode.NoError or ReturnCode.NxDomain))
        {
            string code = DnsResponseCodes.Name((int)response.ReturnCode);
            return ([], DnsUpdateResult.Failure(code, $"reading {ZoneText(service)} from {_dns.Server} answered {code}"));
        }

        return (response.AnswerRecords.OfType<SrvRecord>().Where(r => r.Name.Equals(service)).ToList(), null);
    }

    private async Task<DnsUpdateResult> SendAsync(DomainName zone, IReadOnlyList<UpdateBase> updates, CancellationToken cancellationToken)
    {
        var message = new DnsUpdateMessage { ZoneName = zone, TransactionID = (ushort)RandomNumberGenerator.GetInt32(1, 65536) };
        message.Updates.AddRange(updates);
        if (_key is { } key)
        {
            message.TSigOptions = new TSigRecord(
                DomainName.Parse(key.Name), key.WireAlgorithm, DateTime.UtcNow, Fudge, message.TransactionID, ReturnCode.NoError, null, key.CopySecret());
        }

        var response = await _dns.UpdateAsync(message, cancellationToken).ConfigureAwait(false);
        if (response is null)
        {
            return DnsUpdateResult.Failure(DnsResponseCodes.NoResponse, $"updating zone {ZoneText(zone)}: {_dns.NoAnswer}");
        }

        string? tsigError = response.TSigOptions is { Error: not ReturnCode.NoError } tsig ? DnsResponseCodes.TsigErrorName((int)tsig.Error) : null;
        if (response.ReturnCode != ReturnCode.NoError)
        {
            string code = DnsResponseCodes.Name((int)response.ReturnCode);
            return DnsUpdateResult.Failure(code, $"{_dns.Server} refused the update of zone {ZoneText(zone)}: {Explain(response.ReturnCode, tsigError)}", tsigError);
        }

        if (_key is not null && response.TSigOptions?.ValidationResult != ReturnCode.NoError)
        {
            string validation = response.TSigOptions is null ? "unsigned" : DnsResponseCodes.TsigErrorName((int)response.TSigOptions.ValidationResult);
            return DnsUpdateResult.Failure(
                "NOERROR", $"the reply of {_dns.Server} for zone {ZoneText(zone)} is not signed with key {_key} ({validation}); not trusted", validation);
        }

        return DnsUpdateResult.Success($"zone {ZoneText(zone)} updated");
    }

    private string Explain(ReturnCode code, string? tsigError) => (code, tsigError) switch
    {
        (ReturnCode.NotAuthoritive, "BADSIG") => $"the signature with key {_key} did not verify (the secret differs from the server's)",
        (ReturnCode.NotAuthoritive, "BADKEY") => $"the server does not know key {_key}",
        (ReturnCode.NotAuthoritive, "BADTIME") => "the clocks of this machine and the server differ by more than 300 s",
        (ReturnCode.NotAuthoritive, _) => "the server is not authoritative for the zone, or did not accept the key",
        (ReturnCode.Refused, _) => _key is null
            ? "the zone's update policy does not allow unsigned updates from this address (give a TSIG key)"
            : $"the zone's update policy does not allow this update with key {_key}",
        (ReturnCode.NotZone, _) => "a name is outside the zone",
        (ReturnCode.ServerFailure, _) => "the server failed to apply it",
        _ => "see the server's log",
    };
}
