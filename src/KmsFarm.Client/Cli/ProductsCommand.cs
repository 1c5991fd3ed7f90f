using System.CommandLine;
using System.Globalization;

namespace KmsFarm.Client.Cli;

/// <summary><c>products</c>: list the catalog's SKUs.</summary>
internal sealed class ProductsCommand
{
    private readonly ClientCatalog _catalog;

    public ProductsCommand(ClientCatalog catalog)
    {
        _catalog = catalog;
        Command = new Command("products", "List the products (SKUs) the client can request.") { Json, Filter };
        Command.SetAction(Run);
    }

    public Command Command { get; }

    public Option<bool> Json { get; } = new("--json") { Description = "Print the list as JSON." };

    public Option<string> Filter { get; } = new("--filter")
    {
        Description = "Only products whose name, alias (e.g. Windows 11 Pro, win11-pro), group or ids contain this text.",
    };

    public IEnumerable<ClientProduct> Select(string? filter) => _catalog.Products
        .Where(p => string.IsNullOrWhiteSpace(filter) || Matches(p, filter.Trim()))
        .OrderBy(p => p.Group).ThenBy(p => p.Name, StringComparer.OrdinalIgnoreCase);

    private static bool Matches(ClientProduct p, string text) =>
        p.Name.Contains(text, StringComparison.OrdinalIgnoreCase)
        || p.Aliases.Any(a => a.Contains(text, StringComparison.OrdinalIgnoreCase))
        || p.Group.ToString().Contains(text, StringComparison.OrdinalIgnoreCase)
        || p.SkuId.ToString().Contains(text, StringComparison.OrdinalIgnoreCase)
        || p.KmsCountedId.ToString().Contains(text, StringComparison.OrdinalIgnoreCase);

    private int Run(ParseResult parse)
    {
        var output = parse.InvocationConfiguration.Output;
        var products = Select(parse.GetValue(Filter)).ToArray();
        if (parse.GetValue(Json))
        {
            CliJson.Write(output, products.Select(p => new
            {
                name = p.Name,
                aliases = p.Aliases,
                skuId = p.SkuId,
                kmsCountedId = p.KmsCountedId,
                applicationId = p.ApplicationId,
                group = p.Group,
                nPolicy = p.RequiredClientCount,
                defaultProtocol = (int)p.DefaultProtocol,
            }));
            return ExitCodes.Success;
        }

        int width = products.Select(p => p.Name.Length).DefaultIfEmpty(4).Max();
        var ic = CultureInfo.InvariantCulture;
        output.WriteLine(string.Create(ic, $"{"Name".PadRight(width)}  {"SKU id",-36}  {"KMS counted id",-36}  {"Group",-14}  N_Policy  Protocol"));
        foreach (var p in products)
        {
            output.WriteLine(string.Create(ic,
                $"{p.Name.PadRight(width)}  {p.SkuId,-36}  {p.KmsCountedId,-36}  {p.Group,-14}  {p.RequiredClientCount,8}  V{(int)p.DefaultProtocol}"));
        }

        output.WriteLine(string.Create(ic, $"{products.Length} product(s)."));
        return ExitCodes.Success;
    }
}
