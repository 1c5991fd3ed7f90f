using System.Text;
using System.Text.Json.Nodes;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Protocol.Tests.Catalog;

public class ProductCatalogTests
{
    private static readonly Guid WindowsApp = Guid.Parse("55c92734-d682-4d71-983e-d6ec3f16059f");
    private static readonly Guid Office2010App = Guid.Parse("59a52881-a989-479d-af46-f275c6370663");
    private static readonly Guid Office2013App = Guid.Parse("0ff1ce15-a989-479d-af46-f275c6370663");

    private static ProductCatalog Catalog => ProductCatalog.Default;

    [Fact]
    public void Default_has_the_three_applications_mapped_to_their_groups()
    {
        Assert.Equal(3, Catalog.Applications.Count);
        Assert.True(Catalog.TryGetApplication(WindowsApp, out var windows));
        Assert.Equal(ProductGroup.Windows, windows.Group);
        Assert.True(Catalog.TryGetApplication(Office2010App, out var office2010));
        Assert.Equal(ProductGroup.Office2010, office2010.Group);
        Assert.True(Catalog.TryGetApplication(Office2013App, out var office2013));
        Assert.Equal(ProductGroup.Office2013Plus, office2013.Group);
        Assert.False(Catalog.TryGetApplication(Guid.NewGuid(), out _));
    }

    [Fact]
    public void Every_kms_id_has_an_application_and_a_csvlk_of_that_application()
    {
        Assert.True(Catalog.Products.Count >= 34);
        foreach (var product in Catalog.Products)
        {
            Assert.True(Catalog.TryGetApplication(product.ApplicationId, out var application), product.Name);
            Assert.Equal(application.Group, product.Group);
            var csvlk = Catalog.FindCsvlk(product.CsvlkId);
            Assert.NotNull(csvlk);
            Assert.Equal(product.ApplicationId, csvlk.ApplicationId);
            Assert.InRange(product.DefaultProtocol, 4, 6);
        }
    }

    [Fact]
    public void N_policy_is_25_for_windows_client_and_5_for_server_and_office()
    {
        foreach (var product in Catalog.Products)
        {
            bool server = product.Name.Contains("Server", StringComparison.Ordinal);
            int expected = product.Group == ProductGroup.Windows && !server ? 25 : 5;
            Assert.True(expected == product.NPolicy, $"{product.Name}: N_Policy {product.NPolicy}, expected {expected}");
        }
    }

    [Fact]
    public void Every_sku_resolves_to_a_known_kms_id()
    {
        Assert.True(Catalog.Skus.Count >= 200);
        foreach (var sku in Catalog.Skus)
        {
            Assert.True(Catalog.TryGetProduct(sku.KmsCountedId, out _), sku.Name);
            Assert.Same(sku, Catalog.FindSku(sku.Id.ToString()));
            Assert.Same(sku, Catalog.FindSku(sku.Name.ToUpperInvariant()));
        }
    }

    [Theory]
    [InlineData("win10-pro", "58e2134f-8e11-4d17-9cb2-91069c151148")]
    [InlineData("Windows 11 Pro", "58e2134f-8e11-4d17-9cb2-91069c151148")]
    [InlineData("WIN11-ENT", "58e2134f-8e11-4d17-9cb2-91069c151148")]
    [InlineData("win10-edu", "58e2134f-8e11-4d17-9cb2-91069c151148")]
    [InlineData("win10-ltsc2019", "11b15659-e603-4cf1-9c1f-f0ec01b81888")]
    [InlineData("win10-ltsc2021", "11b15659-e603-4cf1-9c1f-f0ec01b81888")]
    [InlineData("win7-pro", "7fde5219-fbfa-484a-82c9-34d1ad53e856")]
    [InlineData("win7-ent", "7fde5219-fbfa-484a-82c9-34d1ad53e856")]
    [InlineData("win81-pro", "cb8fc780-2c05-495a-9710-85afffc904d7")]
    [InlineData("vista-business", "212a64dc-43b1-4d3d-a30c-2fc69d2095c6")]
    [InlineData("ws2008r2-std", "ca87f5b6-cd46-40c0-b06d-8ecd57a4373f")]
    [InlineData("ws2008r2-dc", "b2ca2689-a9a8-42d7-938d-cf8e9f201958")]
    [InlineData("ws2012r2-std", "8456efd3-0c04-4089-8740-5b7238535a65")]
    [InlineData("ws2012r2-dc", "8456efd3-0c04-4089-8740-5b7238535a65")]
    [InlineData("ws2016-std", "6e9fc069-257d-4bc4-b4a7-750514d32743")]
    [InlineData("ws2016-dc", "6e9fc069-257d-4bc4-b4a7-750514d32743")]
    [InlineData("ws2019-std", "8449b1fb-f0ea-497a-99ab-66ca96e9a0f5")]
    [InlineData("ws2019-dc", "8449b1fb-f0ea-497a-99ab-66ca96e9a0f5")]
    [InlineData("ws2022-std", "b74263e4-0f92-46c6-bcf8-c11d5efe2959")]
    [InlineData("ws2022-dc", "b74263e4-0f92-46c6-bcf8-c11d5efe2959")]
    [InlineData("ws2025-std", "907f1f65-adcd-4a2e-95bc-4bf500bc6e58")]
    [InlineData("ws2025-dc", "907f1f65-adcd-4a2e-95bc-4bf500bc6e58")]
    [InlineData("office2010-proplus", "e85af946-2e25-47b7-83e1-bebcebeac611")]
    [InlineData("office2013-proplus", "e6a6f1bf-9d40-40c3-aa9f-c77ba21578c0")]
    [InlineData("office2016-proplus", "85b5f61b-320b-4be3-814a-b76b2bfafc82")]
    [InlineData("office2019-proplus", "617d9eb1-ef36-4f82-86e0-a65ae07b96c6")]
    [InlineData("Office LTSC 2021 ProPlus", "86d50b16-4808-41af-b83b-b338274318b2")]
    [InlineData("office2024-proplus", "a8973cb5-bf03-0a4c-9cef-703099645ab3")]
    public void Friendly_aliases_find_the_sku_and_its_kms_id(string alias, string kmsId)
    {
        var sku = Catalog.FindSku(alias);
        Assert.NotNull(sku);
        Assert.Equal(Guid.Parse(kmsId), sku.KmsCountedId);
    }

    [Fact]
    public void FindSku_by_guid_and_unknown_names()
    {
        var pro = Catalog.FindSku("2de67392-b7a7-462a-b1ca-108dd189f588");
        Assert.NotNull(pro);
        Assert.Equal("Windows 10/11 Pro", pro.Name);
        Assert.Same(pro, Catalog.FindSku(" {2DE67392-B7A7-462A-B1CA-108DD189F588} "));
        Assert.Null(Catalog.FindSku("windows 99 ultimate"));
        Assert.Null(Catalog.FindSku(Guid.NewGuid().ToString()));
    }

    [Theory]
    [InlineData("WindowsVista1")]
    [InlineData("Windows7")]
    [InlineData("Windows8")]
    [InlineData("Windows81")]
    [InlineData("Windows10v2015")]
    [InlineData("WindowsServer2008A")]
    [InlineData("WindowsServer2008R2C")]
    [InlineData("WindowsServer2012")]
    [InlineData("WindowsServer2012R2")]
    [InlineData("WindowsServer2016")]
    [InlineData("WindowsServer2019")]
    [InlineData("WindowsServer2022")]
    [InlineData("WindowsServer2025")]
    [InlineData("Office2010")]
    [InlineData("Office2013")]
    [InlineData("Office2016")]
    [InlineData("Office2019")]
    [InlineData("Office2021")]
    [InlineData("Office2024")]
    public void Csvlks_cover_vista_to_server_2025_and_office_2010_to_2024(string id)
    {
        var csvlk = Catalog.FindCsvlk(id);
        Assert.NotNull(csvlk);
        Assert.NotEmpty(csvlk.KeyBlocks);
        Assert.NotEmpty(csvlk.Activates);
        Assert.All(csvlk.KeyBlocks, b => Assert.True(b.First <= b.Last));
    }

    [Fact]
    public void Office_2010_csvlk_is_group_96_with_its_key_range()
    {
        var csvlk = Catalog.GetCsvlk("office2010");
        Assert.Equal(96, csvlk.GroupId);
        Assert.Equal([new KeyBlock(199_000_000, 217_999_999)], csvlk.KeyBlocks);
        Assert.Equal(Office2010App, csvlk.ApplicationId);
    }

    [Fact]
    public void Server_2022_key_blocks_leave_the_hole_out()
    {
        var csvlk = Catalog.GetCsvlk("WindowsServer2022");
        Assert.False(csvlk.ContainsKeyId(25_000));
        Assert.True(csvlk.ContainsKeyId(19_999));
        Assert.True(csvlk.ContainsKeyId(30_000));
    }

    [Fact]
    public void ResolveCsvlk_maps_known_ids_to_their_csvlk()
    {
        var office2010 = Catalog.ResolveCsvlk(Guid.Parse("e85af946-2e25-47b7-83e1-bebcebeac611"), Office2010App, out bool fallback);
        Assert.False(fallback);
        Assert.Equal("Office2010", office2010.Id);

        var win10 = Catalog.ResolveCsvlk(Guid.Parse("58e2134f-8e11-4d17-9cb2-91069c151148"), WindowsApp, out fallback);
        Assert.False(fallback);
        Assert.Equal("WindowsServer2025", win10.Id);
        Assert.True(win10.CanActivate(Guid.Parse("58e2134f-8e11-4d17-9cb2-91069c151148")));

        var chinaGov = Catalog.ResolveCsvlk(Guid.Parse("7ba0bf23-d0f5-4072-91d9-d55af5a481b6"), WindowsApp, out _);
        Assert.Equal(3858, chinaGov.GroupId);
    }

    [Fact]
    public void ResolveCsvlk_falls_back_per_application_and_to_windows()
    {
        var unknown = Guid.NewGuid();
        Assert.Equal("Office2024", Catalog.ResolveCsvlk(unknown, Office2013App, out bool fallback).Id);
        Assert.True(fallback);
        Assert.Equal("Office2010", Catalog.ResolveCsvlk(unknown, Office2010App, out _).Id);
        Assert.Equal("WindowsServer2025", Catalog.ResolveCsvlk(unknown, WindowsApp, out _).Id);
        Assert.Equal("WindowsServer2025", Catalog.ResolveCsvlk(unknown, Guid.NewGuid(), out fallback).Id);
        Assert.True(fallback);
    }

    [Fact]
    public void Host_builds_carry_platform_id_and_ndr64()
    {
        var b26100 = Catalog.GetHostBuild(26100);
        Assert.Equal(3612, b26100.PlatformId);
        Assert.True(b26100.UsesNdr64);
        Assert.NotNull(b26100.ReleaseDate);
        var b7601 = Catalog.GetHostBuild(7601);
        Assert.Equal(55041, b7601.PlatformId);
        Assert.False(b7601.UsesNdr64);
        Assert.Equal(6401, Catalog.GetHostBuild(9600).PlatformId);
        Assert.Equal(5426, Catalog.GetHostBuild(9200).PlatformId);
        var e = Assert.Throws<KeyNotFoundException>(() => Catalog.GetHostBuild(12345));
        Assert.Contains("12345", e.Message, StringComparison.Ordinal);
        Assert.All(Catalog.HostBuilds.Where(b => b.Build >= 9200), b => Assert.True(b.UsesNdr64));
        Assert.All(Catalog.HostBuilds.Where(b => b.UseForEpid), b => Assert.NotNull(b.ReleaseDate));
    }

    [Fact]
    public void Load_reads_the_shipped_file_like_the_embedded_default()
    {
        using var stream = File.OpenRead(CatalogPath());
        var loaded = ProductCatalog.Load(stream);
        Assert.Equal(Catalog.Csvlks.Count, loaded.Csvlks.Count);
        Assert.Equal(Catalog.Products.Count, loaded.Products.Count);
        Assert.Equal(Catalog.Skus.Count, loaded.Skus.Count);
        Assert.Equal(Catalog.HostBuilds.Count, loaded.HostBuilds.Count);
    }

    public static TheoryData<string, string> BadCatalogs => new()
    {
        { "not json {", "not valid JSON" },
        { "[]", "root must be a JSON object" },
        { "csvlks[0].groupId=-1", "csvlks[0] (" },
        { "csvlks[0].keyBlocks[0].first=999999999", "is after last" },
        { "products[0].csvlk=Nope", "unknown csvlk 'Nope'" },
        { "products[0].nPolicy=5000", "'nPolicy' = 5000 is outside 1..1000" },
        { "skus[0].kmsCountedId=00000000-0000-0000-0000-000000000001", "unknown kmsCountedId" },
        { "skus[0].id=not-a-guid", "is not a GUID" },
        { "applications[0].group=Linux", "group 'Linux'" },
        { "applications[0].fallbackCsvlk=Office2010", "fallbackCsvlk 'Office2010'" },
        { "hostBuilds[0].releaseDate=yesterday", "yyyy-MM-dd" },
        { "skus[1].aliases=dup", "is also used by" },
        { "hostBuilds[0].csvlks[0]=Nope", "csvlks names unknown CSVLK 'Nope'" },
        { "hostBuilds[1].csvlks[0]=Office2010", "CSVLK 'Office2010' is already first installable on 6002" },
    };

    [Theory]
    [MemberData(nameof(BadCatalogs))]
    public void Load_rejects_a_bad_catalog_naming_the_entry(string mutation, string expectedMessage)
    {
        string json = Mutate(File.ReadAllText(CatalogPath()), mutation);
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(json));
        var e = Assert.Throws<CatalogFormatException>(() => ProductCatalog.Load(stream));
        Assert.Contains(expectedMessage, e.Message, StringComparison.Ordinal);
    }

    private static string Mutate(string json, string mutation)
    {
        if (!mutation.Contains('=', StringComparison.Ordinal))
        {
            return mutation;
        }

        var root = JsonNode.Parse(json)!;
        var (path, value) = (mutation[..mutation.IndexOf('=', StringComparison.Ordinal)], mutation[(mutation.IndexOf('=', StringComparison.Ordinal) + 1)..]);
        if (path == "skus[1].aliases")
        {
            // Give the second SKU the first SKU's name as an alias.
            root["skus"]![1]!["aliases"] = new JsonArray(root["skus"]![0]!["name"]!.GetValue<string>());
            return root.ToJsonString();
        }

        JsonNode node = root;
        var segments = path.Split('.');
        foreach (var segment in segments[..^1])
        {
            node = Step(node, segment);
        }

        JsonNode newValue = int.TryParse(value, out int n) ? JsonValue.Create(n) : JsonValue.Create(value);
        string last = segments[^1];
        int bracket = last.IndexOf('[', StringComparison.Ordinal);
        if (bracket < 0)
        {
            node[last] = newValue;
        }
        else
        {
            node[last[..bracket]]![int.Parse(last[(bracket + 1)..^1], System.Globalization.CultureInfo.InvariantCulture)] = newValue;
        }

        return root.ToJsonString();
    }

    private static JsonNode Step(JsonNode node, string segment)
    {
        int bracket = segment.IndexOf('[', StringComparison.Ordinal);
        if (bracket < 0)
        {
            return node[segment]!;
        }

        int index = int.Parse(segment[(bracket + 1)..^1], System.Globalization.CultureInfo.InvariantCulture);
        return node[segment[..bracket]]![index]!;
    }

    internal static string CatalogPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "src", "KmsFarm.Protocol", "Catalog", "Data", "catalog.json");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException("catalog.json not found above " + AppContext.BaseDirectory);
    }
}
