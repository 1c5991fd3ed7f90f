using KmsFarm.DnsSrv;

namespace KmsFarm.Client.Load;

/// <summary>Which host each machine tries, as a Windows client: the host it kept (the one that answered it last) first;
/// otherwise, and when that one does not answer, the hosts in its own order. With a host list (<c>--hosts</c>) machine i's
/// order starts at host i mod H and goes round the list, which spreads the machines evenly; with hosts found in DNS
/// (<see cref="LoadSettings.SrvRecords"/>) it is the machine's own RFC 2782 order, drawn once per machine from the seed,
/// so machines spread over a priority by the records' weights. The shared <see cref="HostBackoff"/> then moves hosts that
/// did not answer lately to the end.</summary>
public sealed partial class LoadGenerator
{
    private enum HostOutcome
    {
        /// <summary>The host answered the request (an activation or a refusal).</summary>
        Answered,

        /// <summary>The host did not answer (connect failure or timeout): try the next one.</summary>
        HostDown,

        /// <summary>The request failed on a host that answered (protocol error, connection lost): no fail-over.</summary>
        RequestFailed,
    }

    /// <summary>The hosts machine <paramref name="index"/> would try, before the backoff reorders them: the kept host, then
    /// the machine's order of the others. Lazy: the order is drawn only when the kept host does not answer.</summary>
    private IEnumerable<int> Preferred(int index, int kept)
    {
        if (kept >= 0)
        {
            yield return kept;
        }

        foreach (int host in MachineOrder(index, kept))
        {
            yield return host;
        }
    }

    /// <summary>The host the machine would try first before any host answered it.</summary>
    private int FirstChoice(int index) => _settings.SrvRecords is null ? index % _settings.Hosts.Count : MachineOrder(index, -1)[0];

    /// <summary>The machine's order of the hosts, without <paramref name="excluded"/>.</summary>
    private int[] MachineOrder(int index, int excluded)
    {
        int count = _settings.Hosts.Count;
        var order = new int[excluded >= 0 ? count - 1 : count];
        int n = 0;
        if (_settings.SrvRecords is not { } records)
        {
            for (int k = 0; k < count; k++)
            {
                int host = (index + k) % count;
                if (host != excluded)
                {
                    order[n++] = host;
                }
            }

            return order;
        }

        ulong seed = SplitMix64.For(_settings.Seed ^ 2782, index).NextUInt64();
        foreach (var record in SrvOrdering.Order(records, new Random(unchecked((int)seed))))
        {
            int host = _hostOfRecord![record];
            if (host != excluded)
            {
                order[n++] = host;
            }
        }

        return order;
    }

    private void Keep(int index, int host) => Volatile.Write(ref _kept[index], host + 1);
}
