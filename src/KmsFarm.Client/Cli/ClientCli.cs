using System.CommandLine;
using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Client.Cli;

/// <summary>The kmsfarm-client command line: <c>activate</c>, <c>products</c>, <c>load</c> and <c>status</c>.</summary>
public static class ClientCli
{
    public static RootCommand CreateRootCommand(ClientCatalog catalog) => new("KmsFarm client: activate against a KMS host, list products, generate load.")
    {
        new ActivateCommand(catalog).Command,
        new ProductsCommand(catalog).Command,
        new LoadCommand(catalog).Command,
        new StatusCommand().Command,
    };

    public static async Task<int> InvokeAsync(string[] args, CancellationToken cancellationToken = default)
    {
        ClientCatalog catalog;
        try
        {
            catalog = ClientCatalog.Default;
        }
        catch (CatalogFormatException ex)
        {
            await Console.Error.WriteLineAsync("The embedded product catalog is invalid: " + ex.Message).ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        return await CreateRootCommand(catalog).Parse(args).InvokeAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
    }
}
