using System.Globalization;
using System.Text.Json;

namespace KmsFarm.Protocol.Catalog;

public sealed partial class ProductCatalog
{
    /// <summary>The largest catalog accepted, so a wrong file cannot make us buffer without bound.</summary>
    public const int MaxCatalogBytes = 8 * 1024 * 1024;

    private const string ResourceName = "KmsFarm.Protocol.Catalog.catalog.json";

    /// <summary>Reads and validates a catalog in the format of Catalog/Data/catalog.json (UTF-8 JSON). Throws
    /// <see cref="CatalogFormatException"/> naming the first bad entry (e.g. <c>csvlks[3] (Office2010): …</c>).</summary>
    public static ProductCatalog Load(Stream utf8Json)
    {
        ArgumentNullException.ThrowIfNull(utf8Json);
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = utf8Json.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (buffer.Length + read > MaxCatalogBytes)
            {
                throw new CatalogFormatException($"The catalog is larger than {MaxCatalogBytes} bytes.");
            }

            buffer.Write(chunk, 0, read);
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(buffer.GetBuffer().AsMemory(0, (int)buffer.Length),
                new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        }
        catch (JsonException e)
        {
            throw new CatalogFormatException($"The catalog is not valid JSON: {e.Message}", e);
        }

        using (document)
        {
            return Parse(document.RootElement);
        }
    }

    private static ProductCatalog LoadEmbedded()
    {
        using var stream = typeof(ProductCatalog).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing from KmsFarm.Protocol.");
        return Load(stream);
    }

    private static ProductCatalog Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new CatalogFormatException("The catalog root must be a JSON object.");
        }

        var applications = ParseArray(root, "applications", "", ParseApplication);
        var csvlks = ParseArray(root, "csvlks", "", ParseCsvlk);
        var products = ParseArray(root, "products", "", ParseProduct(applications));
        var skus = ParseArray(root, "skus", "", ParseSku);
        var hostBuilds = ParseArray(root, "hostBuilds", "", ParseHostBuild).OrderBy(b => b.Build).ToArray();
        Validate(applications, csvlks, products, skus, hostBuilds);
        return new ProductCatalog(applications, csvlks, products, skus, hostBuilds);
    }

    private static void Validate(
        List<ApplicationInfo> applications,
        List<CsvlkInfo> csvlks,
        List<KmsProductInfo> products,
        List<SkuInfo> skus,
        HostBuildInfo[] hostBuilds)
    {
        foreach (var group in Enum.GetValues<ProductGroup>())
        {
            if (applications.Count(a => a.Group == group) != 1)
            {
                throw new CatalogFormatException($"applications: product group {group} must have exactly one application.");
            }
        }

        RequireUnique(applications, a => a.Id.ToString(), "applications", EqualityComparer<string>.Default);
        RequireUnique(csvlks, c => c.Id, "csvlks", StringComparer.OrdinalIgnoreCase);
        RequireUnique(products, p => p.Id.ToString(), "products", EqualityComparer<string>.Default);
        RequireUnique(skus, s => s.Id.ToString(), "skus", EqualityComparer<string>.Default);
        RequireUnique(hostBuilds, b => b.Build.ToString(CultureInfo.InvariantCulture), "hostBuilds", EqualityComparer<string>.Default);

        var csvlkById = csvlks.ToDictionary(c => c.Id, StringComparer.OrdinalIgnoreCase);
        if (!hostBuilds.Any(b => b.UseForEpid))
        {
            throw new CatalogFormatException("hostBuilds: no build is a KMS host build (useForEpid).");
        }

        var placed = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var build in hostBuilds)
        {
            foreach (string id in build.FirstCsvlks)
            {
                if (!csvlkById.ContainsKey(id))
                {
                    throw new CatalogFormatException($"hostBuilds ({build.Build}): csvlks names unknown CSVLK '{id}'.");
                }

                if (!placed.TryAdd(id, build.Build))
                {
                    throw new CatalogFormatException($"hostBuilds ({build.Build}): CSVLK '{id}' is already first installable on {placed[id]}.");
                }
            }
        }

        var applicationIds = applications.Select(a => a.Id).ToHashSet();
        for (int i = 0; i < applications.Count; i++)
        {
            var a = applications[i];
            if (!csvlkById.TryGetValue(a.FallbackCsvlkId, out var fallback) || fallback.ApplicationId != a.Id)
            {
                throw new CatalogFormatException(
                    $"applications[{i}] ({a.Name}): fallbackCsvlk '{a.FallbackCsvlkId}' is not a CSVLK of this application.");
            }
        }

        for (int i = 0; i < csvlks.Count; i++)
        {
            if (!applicationIds.Contains(csvlks[i].ApplicationId))
            {
                throw new CatalogFormatException($"csvlks[{i}] ({csvlks[i].Id}): unknown applicationId {csvlks[i].ApplicationId}.");
            }
        }

        var productIds = products.Select(p => p.Id).ToHashSet();
        for (int i = 0; i < products.Count; i++)
        {
            var p = products[i];
            if (!csvlkById.TryGetValue(p.CsvlkId, out var csvlk))
            {
                throw new CatalogFormatException($"products[{i}] ({p.Name}): unknown csvlk '{p.CsvlkId}'.");
            }

            if (csvlk.ApplicationId != p.ApplicationId)
            {
                throw new CatalogFormatException(
                    $"products[{i}] ({p.Name}): csvlk '{p.CsvlkId}' belongs to another application.");
            }
        }

        var names = new Dictionary<string, SkuInfo>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < skus.Count; i++)
        {
            var s = skus[i];
            if (!productIds.Contains(s.KmsCountedId))
            {
                throw new CatalogFormatException($"skus[{i}] ({s.Name}): unknown kmsCountedId {s.KmsCountedId}.");
            }

            foreach (var name in s.Aliases.Prepend(s.Name))
            {
                if (names.TryGetValue(name, out var other) && other.Id != s.Id)
                {
                    throw new CatalogFormatException($"skus[{i}] ({s.Name}): name or alias '{name}' is also used by {other.Name}.");
                }

                names[name] = s;
            }
        }
    }

    private static void RequireUnique<T>(IList<T> items, Func<T, string> key, string section, IEqualityComparer<string> comparer)
    {
        var seen = new HashSet<string>(comparer);
        for (int i = 0; i < items.Count; i++)
        {
            if (!seen.Add(key(items[i])))
            {
                throw new CatalogFormatException($"{section}[{i}]: duplicate id {key(items[i])}.");
            }
        }
    }

    private static ApplicationInfo ParseApplication(JsonElement e, string path)
    {
        string name = GetString(e, "name", path);
        path += $" ({name})";
        var groupText = GetString(e, "group", path);
        if (!Enum.TryParse<ProductGroup>(groupText, ignoreCase: false, out var group) || !Enum.IsDefined(group))
        {
            throw new CatalogFormatException($"{path}: group '{groupText}' is not one of {string.Join(", ", Enum.GetNames<ProductGroup>())}.");
        }

        return new ApplicationInfo(GetGuid(e, "id", path), name, group, GetString(e, "fallbackCsvlk", path));
    }

    private static CsvlkInfo ParseCsvlk(JsonElement e, string path)
    {
        string id = GetString(e, "id", path);
        path += $" ({id})";
        var blocks = ParseArray(e, "keyBlocks", path, (b, p) =>
        {
            int first = GetInt(b, "first", p, 0, 999_999_999);
            int last = GetInt(b, "last", p, 0, 999_999_999);
            return first <= last ? new KeyBlock(first, last) : throw new CatalogFormatException($"{p}: first {first} is after last {last}.");
        });
        if (blocks.Count == 0)
        {
            throw new CatalogFormatException($"{path}: keyBlocks is empty.");
        }

        var activates = ParseArray(e, "activates", path, (a, p) => ParseGuid(a, p));
        Guid? activationId = e.TryGetProperty("activationId", out var act) && act.ValueKind != JsonValueKind.Null
            ? ParseGuid(act, path + ".activationId")
            : null;
        return new CsvlkInfo(
            id, activationId, GetString(e, "name", path), GetGuid(e, "applicationId", path), GetInt(e, "groupId", path, 0, 99_999),
            blocks, GetDate(e, "releaseDate", path) ?? throw new CatalogFormatException($"{path}: releaseDate is required."),
            activates, GetBool(e, "isLab", path), GetBool(e, "isAzure", path), GetBool(e, "isPreview", path),
            GetOptionalString(e, "source") ?? "");
    }

    private static Func<JsonElement, string, KmsProductInfo> ParseProduct(List<ApplicationInfo> applications) => (e, path) =>
    {
        string name = GetString(e, "name", path);
        path += $" ({name})";
        var applicationId = GetGuid(e, "applicationId", path);
        var application = applications.FirstOrDefault(a => a.Id == applicationId)
            ?? throw new CatalogFormatException($"{path}: unknown applicationId {applicationId}.");
        return new KmsProductInfo(
            GetGuid(e, "id", path), name, applicationId, application.Group, GetInt(e, "nPolicy", path, 1, 1000),
            GetString(e, "csvlk", path), GetBool(e, "isRetail", path), GetBool(e, "isPreview", path),
            GetInt(e, "defaultProtocol", path, 4, 6), GetOptionalString(e, "source") ?? "");
    };

    private static SkuInfo ParseSku(JsonElement e, string path)
    {
        string name = GetString(e, "name", path);
        path += $" ({name})";
        var aliases = e.TryGetProperty("aliases", out _)
            ? ParseArray(e, "aliases", path, (a, p) => a.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(a.GetString())
                ? a.GetString()!
                : throw new CatalogFormatException($"{p}: an alias must be a non-empty string."))
            : [];
        return new SkuInfo(GetGuid(e, "id", path), name, GetGuid(e, "kmsCountedId", path), aliases, GetOptionalString(e, "source") ?? "");
    }

    private static HostBuildInfo ParseHostBuild(JsonElement e, string path)
    {
        int build = GetInt(e, "build", path, 1, 99_999);
        path += $" ({build})";
        var release = GetDate(e, "releaseDate", path);
        bool useForEpid = GetBool(e, "useForEpid", path);
        if (useForEpid && release is null)
        {
            throw new CatalogFormatException($"{path}: useForEpid needs a releaseDate.");
        }

        var firstCsvlks = e.TryGetProperty("csvlks", out _)
            ? ParseArray(e, "csvlks", path, (c, p) => c.ValueKind == JsonValueKind.String && !string.IsNullOrWhiteSpace(c.GetString())
                ? c.GetString()!
                : throw new CatalogFormatException($"{p}: a CSVLK id must be a non-empty string."))
            : [];
        if (firstCsvlks.Count > 0 && !useForEpid)
        {
            throw new CatalogFormatException($"{path}: csvlks is only for KMS host builds (useForEpid).");
        }

        return new HostBuildInfo(build, GetInt(e, "platformId", path, 0, 99_999), release, GetBool(e, "ndr64", path), useForEpid,
            GetOptionalString(e, "name") ?? "", firstCsvlks);
    }

    private static List<T> ParseArray<T>(JsonElement parent, string property, string path, Func<JsonElement, string, T> parse)
    {
        string at = path.Length == 0 ? property : $"{path}.{property}";
        if (!parent.TryGetProperty(property, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw new CatalogFormatException($"{at}: an array is required.");
        }

        var list = new List<T>(array.GetArrayLength());
        int i = 0;
        foreach (var item in array.EnumerateArray())
        {
            string itemPath = $"{at}[{i++}]";
            if (item.ValueKind != JsonValueKind.Object && typeof(T) != typeof(Guid) && typeof(T) != typeof(string))
            {
                throw new CatalogFormatException($"{itemPath}: an object is required.");
            }

            list.Add(parse(item, itemPath));
        }

        return list;
    }

    private static string GetString(JsonElement e, string property, string path) =>
        GetOptionalString(e, property) is { Length: > 0 } s ? s : throw new CatalogFormatException($"{path}: '{property}' (a non-empty string) is required.");

    private static string? GetOptionalString(JsonElement e, string property) =>
        e.TryGetProperty(property, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static Guid GetGuid(JsonElement e, string property, string path) =>
        e.TryGetProperty(property, out var v) ? ParseGuid(v, $"{path}.{property}") : throw new CatalogFormatException($"{path}: '{property}' is required.");

    private static Guid ParseGuid(JsonElement v, string path) =>
        v.ValueKind == JsonValueKind.String && Guid.TryParse(v.GetString(), out var g)
            ? g
            : throw new CatalogFormatException($"{path}: '{v}' is not a GUID.");

    private static int GetInt(JsonElement e, string property, string path, int min, int max)
    {
        if (!e.TryGetProperty(property, out var v) || v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out int value))
        {
            throw new CatalogFormatException($"{path}: '{property}' (an integer) is required.");
        }

        return value >= min && value <= max
            ? value
            : throw new CatalogFormatException($"{path}: '{property}' = {value} is outside {min}..{max}.");
    }

    private static bool GetBool(JsonElement e, string property, string path) =>
        !e.TryGetProperty(property, out var v) ? false
        : v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean()
        : throw new CatalogFormatException($"{path}: '{property}' must be true or false.");

    private static DateOnly? GetDate(JsonElement e, string property, string path)
    {
        if (!e.TryGetProperty(property, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return v.ValueKind == JsonValueKind.String
            && DateOnly.TryParseExact(v.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)
            ? d
            : throw new CatalogFormatException($"{path}: '{property}' must be a yyyy-MM-dd date.");
    }
}
