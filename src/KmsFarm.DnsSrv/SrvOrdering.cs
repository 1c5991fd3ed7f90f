namespace KmsFarm.DnsSrv;

/// <summary>The order in which a client tries SRV targets (RFC 2782, "Usage rules"): lowest priority first; within one
/// priority, a weighted random selection repeated until every record is placed.</summary>
/// <remarks>Within a priority the records are first shuffled (RFC 2782 lets them be "in any order"; shuffling keeps
/// equal weights, and all-zero weights, from always favouring the server's first record), then those of weight 0 are
/// moved to the front. A number is drawn uniformly from 0 to the sum of the weights (inclusive) and the first record
/// whose running sum reaches it is taken, so a weight-0 record is chosen first only when 0 is drawn: it gets "a very
/// small chance" against weighted ones, as RFC 2782 intends. Deterministic for a seeded <see cref="Random"/>.</remarks>
public static class SrvOrdering
{
    public static IReadOnlyList<SrvTarget> Order(IReadOnlyList<SrvTarget> records, Random random)
    {
        var ordered = new List<SrvTarget>(records.Count);
        foreach (var group in records.GroupBy(r => r.Priority).OrderBy(g => g.Key))
        {
            var pending = group.ToArray();
            random.Shuffle(pending);
            var remaining = pending.Where(r => r.Weight == 0).Concat(pending.Where(r => r.Weight != 0)).ToList();
            while (remaining.Count > 0)
            {
                int pick = Pick(remaining, random);
                ordered.Add(remaining[pick]);
                remaining.RemoveAt(pick);
            }
        }

        return ordered;
    }

    private static int Pick(List<SrvTarget> remaining, Random random)
    {
        long sum = remaining.Sum(r => (long)r.Weight);
        long draw = random.NextInt64(0, sum + 1);
        long running = 0;
        for (int i = 0; i < remaining.Count; i++)
        {
            running += remaining[i].Weight;
            if (running >= draw)
            {
                return i;
            }
        }

        return remaining.Count - 1;
    }
}
