namespace KmsFarm.Client.Load;

/// <summary>A deterministic set of simulated machines: machine i depends only on the seed, i and the mix, so a rerun
/// with the same seed presents the same CMIDs and names to the farm (renewals, not new clients).</summary>
public sealed class MachinePopulation
{
    private readonly KmsClientMachine[] _machines;

    public MachinePopulation(int count, long seed, ProductMix mix)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        Seed = seed;
        Mix = mix;
        _machines = new KmsClientMachine[count];
        for (int i = 0; i < count; i++)
        {
            _machines[i] = Create(seed, i, mix);
        }
    }

    public long Seed { get; }

    public ProductMix Mix { get; }

    public int Count => _machines.Length;

    public KmsClientMachine this[int index] => _machines[index];

    public static KmsClientMachine Create(long seed, int index, ProductMix mix)
    {
        var random = SplitMix64.For(seed, index);
        var product = mix.Pick(random.NextDouble());
        var cmid = random.NextGuidV4();
        var name = MachineNames.Create(product.IsServer, random.Next);
        return new KmsClientMachine(cmid, name, product);
    }
}
