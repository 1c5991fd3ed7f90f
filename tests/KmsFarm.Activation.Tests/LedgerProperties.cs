using FsCheck;
using FsCheck.Fluent;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation.Tests;

/// <summary>The CMID cache's invariants over random request sequences, through <see cref="ProductGroupLedger"/>'s public
/// API only (constructor, Apply, Expire, Count, Capacity, Contains, ToSnapshot), against a reference model of a genuine
/// host's cache.</summary>
public sealed class LedgerProperties
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Ledger_matches_the_reference_model_and_keeps_its_invariants() =>
        TestKit.Properties.Check("ledger invariants, N_Policy 1..5000", Prop.ForAll(Scenarios(minNPolicy: 1), scenario =>
            Replay(scenario, (ledger, _) => Assert.True(ledger.Count <= ledger.Capacity, $"count {ledger.Count} > capacity {ledger.Capacity}"))),
            maxTest: 500);

    /// <summary>N_Policy 0 gets through the protocol layer (it only refuses values above 1000). The requester is kept
    /// and counted (a count of 1, as vlmcsd answers), so the capacity is at least 1 once anyone asked: the count never
    /// exceeds the capacity, N_Policy 0 included.</summary>
    [Fact]
    public void With_n_policy_0_allowed_the_capacity_is_at_least_one_and_the_count_never_exceeds_it() =>
        TestKit.Properties.Check("ledger invariants, N_Policy 0..5000", Prop.ForAll(Scenarios(minNPolicy: 0), scenario =>
            Replay(scenario, (ledger, _) => Assert.True(ledger.Count <= ledger.Capacity, $"count {ledger.Count} > capacity {ledger.Capacity}"))),
            maxTest: 300);

    /// <summary>Runs the scenario on a fresh ledger and on the model, checking after every step.</summary>
    private static void Replay(Scenario scenario, Action<ProductGroupLedger, Model> extraCheck)
    {
        var ledger = new ProductGroupLedger(ProductGroup.Windows);
        var model = new Model();
        var now = Start;
        int maxNPolicy = 0;
        bool asked = false;
        foreach (var step in scenario.Steps)
        {
            now += TimeSpan.FromMinutes(step.Minutes);
            if (step.ExpireOnly)
            {
                int removed = ledger.Expire(now);
                Assert.Equal(model.Expire(now), removed);
            }
            else
            {
                var id = scenario.Clients[step.Client];
                var live = ledger.ToSnapshot().Entries.Any(e => e.ClientMachineId == id && e.LastSeen > now - ProductGroupLedger.ExpiryPeriod);
                int countBefore = ledger.Count;

                var outcome = ledger.Apply(id, step.NPolicy, now);
                var expected = model.Apply(id, step.NPolicy, now);
                maxNPolicy = Math.Max(maxNPolicy, step.NPolicy);
                asked = true;
                Assert.True(outcome.CurrentCount <= outcome.Capacity, $"outcome count {outcome.CurrentCount} > capacity {outcome.Capacity}");
                Assert.Equal(ledger.Capacity, outcome.Capacity);

                Assert.Equal(expected, (outcome.CurrentCount, outcome.IsNewClient));
                Assert.Equal(ledger.Count, outcome.CurrentCount);
                Assert.True(ledger.Contains(id), "the requester is not in the cache");
                if (live)
                {
                    // A renewal never adds: the count can only stay or shrink (others expiring).
                    Assert.False(outcome.IsNewClient, "a renewal counted as a new client");
                    Assert.True(outcome.CurrentCount <= countBefore, $"renewal raised the count from {countBefore} to {outcome.CurrentCount}");
                }
            }

            Assert.Equal(asked ? Math.Min(ProductGroupLedger.MaxCapacity, Math.Max(1, 2 * maxNPolicy)) : 0, ledger.Capacity);
            var snapshot = ledger.ToSnapshot();
            Assert.Equal(ledger.Count, snapshot.Count);
            Assert.Equal(ledger.Capacity, snapshot.Capacity);
            Assert.Equal(model.Entries, snapshot.Entries.Select(e => (e.ClientMachineId, e.LastSeen)));
            Assert.All(snapshot.Entries, e => Assert.True(e.LastSeen > now - ProductGroupLedger.ExpiryPeriod, "an entry unseen for 30 days stayed"));
            foreach (var client in scenario.Clients)
            {
                Assert.Equal(model.Contains(client), ledger.Contains(client));
            }

            extraCheck(ledger, model);
        }
    }

    /// <summary>A pool of 1–80 clients and 1–300 steps: a request from one of them with some N_Policy, or a bare expiry
    /// sweep, each after a time step (mostly minutes to days, sometimes around or exactly the 30 days, sometimes a little
    /// backwards as clocks of several nodes can be).</summary>
    private static Arbitrary<Scenario> Scenarios(int minNPolicy)
    {
        var nPolicy = Gen.Frequency(
            (6, Gen.Choose(minNPolicy, 30)),
            (2, Gen.Choose(minNPolicy, 1000)),
            (1, Gen.Choose(1001, 5000)));
        var minutes = Gen.Frequency(
            (8, Gen.Choose(0, 24 * 60)),
            (3, Gen.Choose(0, 10 * 24 * 60)),
            (1, Gen.Choose((29 * 24 * 60) - 10, (31 * 24 * 60) + 10)),
            (1, Gen.Constant(30 * 24 * 60)),
            (1, Gen.Choose(-120, 0)));
        return Gen.Choose(1, 80).SelectMany(pool => Gen.Choose(1, 300).SelectMany(
                length => Gen.ListOf(
                    Gen.Zip(Gen.Frequency((12, Gen.Constant(false)), (1, Gen.Constant(true))), Gen.Choose(0, pool - 1))
                        .SelectMany(x => Gen.Zip(nPolicy, minutes), (x, y) => new Step(x.Item1, x.Item2, y.Item1, y.Item2)),
                    length),
                (length, steps) => steps),
            (pool, steps) => new Scenario(Enumerable.Range(1, pool).Select(i => new Guid(i, 0, 0, new byte[8])).ToArray(), steps.ToArray()))
            .ToArbitrary();
    }

    public sealed record Step(bool ExpireOnly, int Client, int NPolicy, int Minutes)
    {
        public override string ToString() => ExpireOnly ? $"+{Minutes}m expire" : $"+{Minutes}m c{Client} N{NPolicy}";
    }

    public sealed record Scenario(Guid[] Clients, Step[] Steps)
    {
        public override string ToString() => $"{Clients.Length} clients: {string.Join("; ", Steps.Select(s => s.ToString()))}";
    }

    /// <summary>The cache of a genuine host, as plainly as it can be said: clients in order of their last request; a
    /// request first forgets everyone unseen for 30 days, then moves (or adds) the requester to the back; capacity is
    /// 2 × the largest N_Policy seen (at most 2000, at least 1 once anyone asked) and the least recently seen make room;
    /// the reported count includes the requester.</summary>
    private sealed class Model
    {
        private readonly List<(Guid Id, DateTimeOffset LastSeen)> _order = [];
        private int _capacity;

        public IEnumerable<(Guid, DateTimeOffset)> Entries => _order;

        public bool Contains(Guid id) => _order.Exists(e => e.Id == id);

        public int Expire(DateTimeOffset now) => _order.RemoveAll(e => now - e.LastSeen >= TimeSpan.FromDays(30));

        public (int Count, bool IsNew) Apply(Guid id, int nPolicy, DateTimeOffset now)
        {
            Expire(now);
            _capacity = Math.Max(_capacity, Math.Min(2000, Math.Max(1, 2 * Math.Min(nPolicy, 2000))));
            bool isNew = _order.RemoveAll(e => e.Id == id) == 0;
            _order.Add((id, now));
            while (_order.Count > _capacity)
            {
                _order.RemoveAt(0);
            }

            return (_order.Count, isNew);
        }
    }
}
