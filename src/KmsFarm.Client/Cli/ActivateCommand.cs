using System.CommandLine;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client.Cli;

/// <summary><c>activate</c>: send one or more activation requests on one connection, like <c>vlmcs</c>.</summary>
internal sealed class ActivateCommand
{
    private readonly ClientCatalog _catalog;

    public ActivateCommand(ClientCatalog catalog)
    {
        _catalog = catalog;
        Host.CustomParser = CliParsers.HostList;
        Protocol.CustomParser = CliParsers.Protocol;
        Product.Validators.Add(result =>
        {
            var name = result.GetValueOrDefault<string>();
            if (name is not null && _catalog.FindByName(name) is null)
            {
                var hints = string.Join(", ", _catalog.Suggest(name).Select(n => $"'{n}'"));
                result.AddError($"--product: unknown product '{name}'." + (hints.Length > 0 ? $" Did you mean {hints}?" : " Run 'products' to list them."));
            }
        });
        Count.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 100_000)
            {
                result.AddError("--count must be between 1 and 100000.");
            }
        });
        Machine.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string>() is { } name && (name.Length is 0 or > 63))
            {
                result.AddError("--machine: a workstation name has 1 to 63 characters.");
            }
        });
        Timeout.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is <= 0 or > 3600)
            {
                result.AddError("--timeout must be between 0 and 3600 seconds.");
            }
        });

        Command = new Command("activate", "Activate a product against a KMS host, like vlmcs.")
        {
            Host, Product, KmsId, Protocol, Cmid, Machine, Count, NoNdr64, NoBtfn, NoMultiplex, Timeout, Json,
        };
        Dns.AddTo(Command, Host);
        Command.Options.Add(HostCache);
        Command.Validators.Add(result =>
        {
            bool hasProduct = result.GetResult(Product) is not null;
            bool hasKmsId = result.GetResult(KmsId) is not null;
            if (hasProduct == hasKmsId)
            {
                result.AddError("Give exactly one of --product NAME or --kms-id GUID.");
            }
        });
        Command.SetAction(RunAsync);
    }

    public Command Command { get; }

    public Option<IReadOnlyList<HostEndpoint>> Host { get; } = new("--host", "--hosts")
    {
        Description = "KMS host as host:port ([::1]:1688 for IPv6), or a comma-separated list tried in turn until one answers.",
    };

    public DnsOptions Dns { get; } = new();

    public Option<string> HostCache { get; } = new("--host-cache", "--dns-cache")
    {
        Description = "File remembering the host that answered (tried first next time; with --dns-domain, DNS is asked only if it does not "
            + "answer) and the hosts that did not (tried again only after a backoff, 1 s doubling to 60 s).",
        HelpName = "FILE",
    };

    public Option<string> Product { get; } = new("--product") { Description = "Product name (see 'products') or SKU id." };

    public Option<Guid?> KmsId { get; } = new("--kms-id") { Description = "KMS counted id to request (any GUID)." };

    public Option<KmsProtocolVersion?> Protocol { get; } = new("--protocol")
    {
        Description = "KMS protocol version 4, 5 or 6 (default: the product's).",
        HelpName = "4|5|6",
    };

    public Option<Guid?> Cmid { get; } = new("--cmid") { Description = "Client machine id (default: random)." };

    public Option<string> Machine { get; } = new("--machine") { Description = "Workstation name (default: random, DESKTOP-XXXXXXX)." };

    public Option<int> Count { get; } = new("--count", "-n") { Description = "Requests on one connection.", DefaultValueFactory = _ => 1 };

    public Option<bool> NoNdr64 { get; } = new("--no-ndr64") { Description = "Do not offer NDR64 in the bind." };

    public Option<bool> NoBtfn { get; } = new("--no-btfn") { Description = "Do not offer bind-time feature negotiation." };

    public Option<bool> NoMultiplex { get; } = new("--no-multiplex") { Description = "Clear PFC_CONC_MPX in the bind." };

    public Option<double> Timeout { get; } = new("--timeout") { Description = "Connect and reply timeout, seconds.", DefaultValueFactory = _ => 10 };

    public Option<bool> Json { get; } = new("--json") { Description = "Print the results as JSON." };

    internal ActivateSettings GetSettings(ParseResult parse)
    {
        var product = parse.GetValue(Product) is { } name
            ? _catalog.FindByName(name)!
            : _catalog.FindByKmsId(parse.GetValue(KmsId)!.Value);
        var timeout = TimeSpan.FromSeconds(parse.GetValue(Timeout));
        return new ActivateSettings(
            parse.GetValue(Host) ?? [],
            product,
            parse.GetValue(Protocol) ?? product.DefaultProtocol,
            parse.GetValue(Cmid) ?? Guid.NewGuid(),
            parse.GetValue(Machine) ?? MachineNames.CreateRandom(product.IsServer),
            parse.GetValue(Count),
            new KmsClientOptions
            {
                OfferNdr64 = !parse.GetValue(NoNdr64),
                OfferBtfn = !parse.GetValue(NoBtfn),
                Multiplex = !parse.GetValue(NoMultiplex),
                ConnectTimeout = timeout,
                ReceiveTimeout = timeout,
            },
            parse.GetValue(Json),
            Dns.GetSettings(parse),
            parse.GetValue(HostCache));
    }

    private Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken) =>
        ActivateRunner.RunAsync(GetSettings(parse), parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken);
}
