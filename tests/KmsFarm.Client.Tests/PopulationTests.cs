using KmsFarm.Client.Load;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Client.Tests;

public sealed class PopulationTests
{
    private static readonly ProductMix DefaultMix = ProductMix.Create(LoadMix.Default, ClientCatalog.Default.FindBySkuId);

    [Fact]
    public void The_same_seed_gives_the_same_machines()
    {
        var a = new MachinePopulation(500, 7, DefaultMix);
        var b = new MachinePopulation(500, 7, DefaultMix);

        for (int i = 0; i < a.Count; i++)
        {
            Assert.Equal(a[i], b[i]);
        }
    }

    [Fact]
    public void A_machine_depends_only_on_seed_and_index_not_on_population_size()
    {
        var small = new MachinePopulation(10, 99, DefaultMix);
        var large = new MachinePopulation(1000, 99, DefaultMix);

        for (int i = 0; i < small.Count; i++)
        {
            Assert.Equal(small[i], large[i]);
            Assert.Equal(small[i], MachinePopulation.Create(99, i, DefaultMix));
        }
    }

    [Fact]
    public void Different_seeds_give_different_cmids()
    {
        var a = new MachinePopulation(200, 1, DefaultMix);
        var b = new MachinePopulation(200, 2, DefaultMix);

        Assert.Empty(Enumerable.Range(0, 200).Select(i => a[i].ClientMachineId).Intersect(Enumerable.Range(0, 200).Select(i => b[i].ClientMachineId)));
    }

    [Fact]
    public void Cmids_are_unique_version_4_uuids_and_names_look_like_windows_defaults()
    {
        var population = new MachinePopulation(20_000, 1688, DefaultMix);
        var cmids = new HashSet<Guid>();
        for (int i = 0; i < population.Count; i++)
        {
            var machine = population[i];
            Assert.True(cmids.Add(machine.ClientMachineId));
            Assert.Equal(4, machine.ClientMachineId.Version);
            Assert.Matches(machine.Product.IsServer ? "^WIN-[A-Z0-9]{11}$" : "^DESKTOP-[A-Z0-9]{7}$", machine.WorkstationName);
        }
    }

    [Fact]
    public void The_default_mix_is_mostly_windows_desktops_with_some_servers_and_office()
    {
        var population = new MachinePopulation(20_000, 5, DefaultMix);
        var machines = Enumerable.Range(0, population.Count).Select(i => population[i]).ToArray();
        double desktops = machines.Count(m => m.Product.Group == ProductGroup.Windows && !m.Product.IsServer) / (double)machines.Length;
        double servers = machines.Count(m => m.Product.IsServer) / (double)machines.Length;
        double office = machines.Count(m => m.Product.Group != ProductGroup.Windows) / (double)machines.Length;

        Assert.InRange(desktops, 0.62, 0.72);
        Assert.InRange(servers, 0.07, 0.13);
        Assert.InRange(office, 0.17, 0.25);
        Assert.Contains(machines, m => m.Product.Group == ProductGroup.Office2010);
        Assert.Contains(machines, m => m.Product.DefaultProtocol == Protocol.Kms.KmsProtocolVersion.V4);
        Assert.Contains(machines, m => m.Product.DefaultProtocol == Protocol.Kms.KmsProtocolVersion.V5);
    }
}
