using System.Globalization;

namespace KmsFarm.Fuzz;

/// <summary>Runs a target on one input and turns unbounded growth into a finding: allocation out of proportion to the
/// input (per input), or memory that stays reachable across inputs (checked every few thousand inputs; no target keeps
/// state between inputs, so the live heap must stay small).</summary>
internal sealed class GrowthGuard
{
    /// <summary>Longer inputs are cut (afl-fuzz's own limit is 1 MB).</summary>
    public const int MaxInputLength = 1 << 20;

    /// <summary>A fixed allowance (sessions, their bounded buffers, one-time JIT and static data) plus per input byte
    /// (the input copy, chunk descriptors of one-byte chunks, replies).</summary>
    private const long FixedAllowance = 4L << 20;
    private const long PerInputByte = 160;
    private const long MaxLiveHeap = 256L << 20;
    private const int HeapCheckInterval = 4096;

    private long _runs;

    public void Run(IFuzzTarget target, ReadOnlySpan<byte> input)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        target.Run(input);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Check.That(allocated <= FixedAllowance + (PerInputByte * input.Length),
            string.Create(CultureInfo.InvariantCulture, $"{allocated} bytes allocated for an input of {input.Length} bytes"));

        if (++_runs % HeapCheckInterval == 0 && GC.GetTotalMemory(forceFullCollection: false) > MaxLiveHeap)
        {
            long live = GC.GetTotalMemory(forceFullCollection: true);
            Check.That(live <= MaxLiveHeap, string.Create(CultureInfo.InvariantCulture, $"{live} bytes still reachable after {_runs} inputs"));
        }
    }
}
