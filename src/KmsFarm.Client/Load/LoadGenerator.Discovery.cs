using KmsFarm.DnsSrv;

namespace KmsFarm.Client.Load;

/// <summary>Hosts found in DNS (<see cref="LoadSettings.SrvRecords"/>): each machine behaves like a Windows client. It
/// tries the host it kept first; otherwise (and when that one does not answer) the hosts in its own RFC 2782 order
/// (drawn once per machine from the seed, so machines spread over a priority by the records' weights); the host that
/// answers is kept for the machine's next request.</summary>
public sealed partial class LoadGenerator
{
    /// <summary>The host machine <paramref name="index"/> tries at <paramref name="attempt"/>.</summary>
    private int DiscoveredHost(int index, int attempt, ref int[]? order)
    {
        int kept = Volatile.Read(ref _kept![index]) - 1;
        if (kept >= 0)
        {
            if (attempt == 0)
            {
                return kept;
            }

            attempt--;
        }

        order ??= MachineOrder(index, kept);
        return order[attempt];
    }

    /// <summary>The machine's RFC 2782 order of the hosts, without <paramref name="excluded"/>.</summary>
    private int[] MachineOrder(int index, int excluded)
    {
        var records = _settings.SrvRecords!;
        ulong seed = SplitMix64.For(_settings.Seed ^ 2782, index).NextUInt64();
        var order = new int[excluded >= 0 ? records.Count - 1 : records.Count];
        int n = 0;
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

    private void Keep(int index, int host)
    {
        if (_kept is not null)
        {
            Volatile.Write(ref _kept[index], host + 1);
        }
    }
}
