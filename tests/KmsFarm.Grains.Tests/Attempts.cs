using KmsFarm.Activation;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Grains.Tests;

/// <summary>Builders of the attempts a node sends.</summary>
internal static class Attempts
{
    public static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static int s_next;

    /// <summary>A CMID no other test of this process uses.</summary>
    public static Guid NewCmid() => new(Interlocked.Increment(ref s_next), 0x4b4d, 0x5346, 1, 2, 3, 4, 5, 6, 7, 8);

    public static ActivationAttempt For(Guid cmid, int nPolicy, string node = "node-a") => new(cmid, nPolicy, new ActivationRecord
    {
        Time = T0,
        Node = node,
        ClientAddress = "192.0.2.10:49152",
        ProtocolVersion = 6,
        Group = null,
        ApplicationId = Guid.Parse("55c92734-d682-4d71-983e-d6ec3f16059f"),
        SkuId = Guid.Parse("2de67392-b7a7-462a-b1ca-108dd189f588"),
        KmsCountedId = Guid.Parse("8449b1fb-f0ea-497a-99ab-66ca96e9a0f5"),
        ClientMachineId = cmid,
        MachineName = "pc-" + cmid.ToString("N")[..8],
        LicenseStatus = 2,
        IsClientVm = false,
        RequiredClientCount = nPolicy,
        Result = 0,
    });

    public static ActivationAttempt[] NewBatch(int size, int nPolicy, string node = "node-a") =>
        Enumerable.Range(0, size).Select(_ => For(NewCmid(), nPolicy, node)).ToArray();
}

/// <summary>What the history says of a group.</summary>
internal static class History
{
    /// <summary>The committed rows of <paramref name="group"/>, in commit order.</summary>
    public static ActivationRecord[] Of(IReadOnlyList<ActivationRecord> history, ProductGroup group) =>
        history.Where(r => r.Group == group && r.Result == 0).ToArray();

    /// <summary>Replays <paramref name="rows"/> through one fresh ledger (one genuine host, one serialized order) and asserts
    /// that each row carries the count that ledger reports: the rows are one consistent history, whichever activations
    /// wrote them.</summary>
    public static void AssertReplaysConsistently(IReadOnlyList<ActivationRecord> rows, ProductGroup group)
    {
        var host = new ProductGroupLedger(group);
        for (int i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            int expected = host.Apply(row.ClientMachineId, row.RequiredClientCount, Attempts.T0).CurrentCount;
            Assert.True(expected == row.CurrentCount,
                $"history row {i} ({row.ClientMachineId}, node {row.Node}) says {row.CurrentCount}, one serialized order says {expected}");
        }
    }

    /// <summary>Asserts that every count told to a caller is the one its CMID's history row carries (each CMID here is
    /// asked about once, so it has one row).</summary>
    public static void AssertToldCountsAreInHistory(IReadOnlyList<ActivationRecord> rows, IEnumerable<(Guid Cmid, int Count)> told)
    {
        var byCmid = rows.ToDictionary(r => r.ClientMachineId);
        foreach (var (cmid, count) in told)
        {
            Assert.True(byCmid.TryGetValue(cmid, out var row), $"{cmid} was told {count} but has no history row");
            Assert.True(row.CurrentCount == count, $"{cmid} was told {count}, its history row says {row.CurrentCount}");
        }
    }
}
