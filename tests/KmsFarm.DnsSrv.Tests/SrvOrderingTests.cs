using System.Net;

namespace KmsFarm.DnsSrv.Tests;

/// <summary>RFC 2782 ordering: priorities ascending, weighted random within a priority.</summary>
public sealed class SrvOrderingTests
{
    private static SrvTarget Record(string name, ushort priority, ushort weight) => new(priority, weight, 1688, name, [IPAddress.Loopback]);

    [Fact]
    public void Lower_priority_always_comes_first()
    {
        SrvTarget[] records = [Record("c", 20, 100), Record("a", 0, 1), Record("b", 10, 65535), Record("a2", 0, 5)];
        for (int seed = 0; seed < 200; seed++)
        {
            var ordered = SrvOrdering.Order(records, new Random(seed));
            Assert.Equal([0, 0, 10, 20], ordered.Select(r => (int)r.Priority));
            Assert.Equal(records.Length, ordered.Distinct().Count());
        }
    }

    [Fact]
    public void A_seeded_random_gives_the_same_order_every_time()
    {
        SrvTarget[] records = [Record("a", 0, 10), Record("b", 0, 20), Record("c", 0, 30), Record("d", 1, 0)];
        var first = SrvOrdering.Order(records, new Random(1688)).Select(r => r.Target).ToArray();
        var again = SrvOrdering.Order(records, new Random(1688)).Select(r => r.Target).ToArray();
        Assert.Equal(first, again);
        Assert.Equal("d", first[^1]);
    }

    [Fact]
    public void Within_a_priority_a_record_comes_first_in_proportion_to_its_weight()
    {
        SrvTarget[] records = [Record("w10", 0, 10), Record("w30", 0, 30), Record("w60", 0, 60)];
        const int Trials = 20_000;
        var firsts = new Dictionary<string, int> { ["w10"] = 0, ["w30"] = 0, ["w60"] = 0 };
        var random = new Random(2782);
        for (int i = 0; i < Trials; i++)
        {
            firsts[SrvOrdering.Order(records, random)[0].Target]++;
        }

        // Expected shares 10/101, 30/101, 61/101 (the draw runs 0..100 inclusive); bounds are generous (±3 %).
        Assert.InRange(firsts["w10"] / (double)Trials, 0.07, 0.13);
        Assert.InRange(firsts["w30"] / (double)Trials, 0.27, 0.33);
        Assert.InRange(firsts["w60"] / (double)Trials, 0.57, 0.63);
    }

    [Fact]
    public void Weight_zero_gets_only_a_small_chance_against_weighted_records_and_even_chances_among_zeros()
    {
        var random = new Random(7);
        SrvTarget[] mixed = [Record("zero", 0, 0), Record("heavy", 0, 99)];
        int zeroFirst = Enumerable.Range(0, 10_000).Count(_ => SrvOrdering.Order(mixed, random)[0].Target == "zero");
        Assert.InRange(zeroFirst, 50, 200); // 1 chance in 100

        SrvTarget[] zeros = [Record("z1", 0, 0), Record("z2", 0, 0), Record("z3", 0, 0)];
        var counts = Enumerable.Range(0, 9_000).GroupBy(_ => SrvOrdering.Order(zeros, random)[0].Target).ToDictionary(g => g.Key, g => g.Count());
        Assert.All(new[] { "z1", "z2", "z3" }, name => Assert.InRange(counts.GetValueOrDefault(name), 2_500, 3_500));
    }
}
