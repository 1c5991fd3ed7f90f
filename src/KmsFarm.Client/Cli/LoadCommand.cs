using System.CommandLine;
using KmsFarm.Client.Load;
using KmsFarm.Protocol.Kms;

namespace KmsFarm.Client.Cli;

/// <summary><c>load</c>: simulate a population of client machines against one or more hosts.</summary>
internal sealed class LoadCommand
{
    private readonly ClientCatalog _catalog;

    public LoadCommand(ClientCatalog catalog)
    {
        _catalog = catalog;
        Hosts.CustomParser = CliParsers.HostList;
        Duration.CustomParser = CliParsers.Duration;
        Protocol.CustomParser = CliParsers.ProtocolOrAuto;
        AddRange(Clients, 1, 10_000_000, "--clients");
        AddRange(Concurrency, 1, 4096, "--concurrency");
        RenewalRatio.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is not (>= 0 and <= 1))
            {
                result.AddError("--renewal-ratio must be between 0 and 1.");
            }
        });
        Rate.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is not (>= 0 and <= 10_000_000))
            {
                result.AddError("--rate must be between 0 (unpaced) and 10000000 requests/s.");
            }
        });
        Timeout.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<double>() is <= 0 or > 3600)
            {
                result.AddError("--timeout must be between 0 and 3600 seconds.");
            }
        });

        Command = new Command("load", "Simulate a population of KMS clients against one or more hosts and measure throughput and latency.")
        {
            Hosts, Clients, Duration, Concurrency, Rate, Mix, RenewalRatio, Protocol, NewConnection, NoNdr64, NoBtfn, Timeout, Seed, Json,
            Acknowledged, Timeline,
        };
        Dns.AddTo(Command, Hosts);
        Command.SetAction(RunAsync);
    }

    public Command Command { get; }

    public Option<IReadOnlyList<HostEndpoint>> Hosts { get; } = new("--hosts", "--host")
    {
        Description = "KMS hosts, comma-separated host:port list; machine i prefers host i mod H.",
    };

    /// <summary>With --dns-domain each machine orders the discovered hosts per RFC 2782 and sticks to the one that answered.</summary>
    public DnsOptions Dns { get; } = new();

    public Option<int> Clients { get; } = new("--clients") { Description = "Number of simulated machines.", DefaultValueFactory = _ => 1000 };

    public Option<TimeSpan> Duration { get; } = new("--duration")
    {
        Description = "How long to send requests (30s, 5m, 1h).",
        DefaultValueFactory = _ => TimeSpan.FromSeconds(30),
    };

    public Option<int> Concurrency { get; } = new("--concurrency") { Description = "Concurrent workers.", DefaultValueFactory = _ => 8 };

    public Option<double> Rate { get; } = new("--rate")
    {
        Description = "Target requests per second over all workers, paced (0: as fast as the workers go).",
        DefaultValueFactory = _ => 0,
    };

    public Option<LoadMix> Mix { get; } = new("--mix") { Description = "Product mix: default, windows, office or server.", DefaultValueFactory = _ => LoadMix.Default };

    public Option<double> RenewalRatio { get; } = new("--renewal-ratio")
    {
        Description = "Fraction of requests that renew an already activated machine.",
        DefaultValueFactory = _ => 0.5,
    };

    /// <summary>0 for auto (a null parse result would not survive System.CommandLine's conversion), else 4, 5 or 6.</summary>
    public Option<int> Protocol { get; } = new("--protocol")
    {
        Description = "auto (each product's own), 4, 5 or 6.",
        HelpName = "auto|4|5|6",
        DefaultValueFactory = _ => 0,
    };

    public Option<bool> NewConnection { get; } = new("--new-connection") { Description = "Open a new connection for every request." };

    public Option<bool> NoNdr64 { get; } = new("--no-ndr64") { Description = "Do not offer NDR64 in the bind." };

    public Option<bool> NoBtfn { get; } = new("--no-btfn") { Description = "Do not offer bind-time feature negotiation." };

    public Option<double> Timeout { get; } = new("--timeout") { Description = "Connect and reply timeout, seconds.", DefaultValueFactory = _ => 5 };

    public Option<long> Seed { get; } = new("--seed") { Description = "Seed of the machine population (CMIDs, names, products).", DefaultValueFactory = _ => 1688 };

    public Option<bool> Json { get; } = new("--json") { Description = "Print only the final report, as JSON." };

    public Option<FileInfo> Acknowledged { get; } = new("--acknowledged")
    {
        Description = "Write every acknowledged activation to FILE as CSV (cmid,group,count,host), to check them against a farm's history.",
        HelpName = "FILE",
    };

    public Option<FileInfo> Timeline { get; } = new("--timeline")
    {
        Description = "Write the running totals every 0.2 s to FILE as CSV (wall-clock time in Unix ms, requests, activations, failures, "
            + "errors by kind, activations per product group), to line the run up with a fault injected from outside.",
        HelpName = "FILE",
    };

    internal LoadSettings GetSettings(ParseResult parse)
    {
        var timeout = TimeSpan.FromSeconds(parse.GetValue(Timeout));
        return new LoadSettings(
            parse.GetValue(Hosts) ?? [],
            parse.GetValue(Clients),
            parse.GetValue(Duration),
            parse.GetValue(Concurrency),
            parse.GetValue(Mix),
            parse.GetValue(RenewalRatio),
            parse.GetValue(Protocol) is var protocol and > 0 ? (KmsProtocolVersion)protocol : null,
            parse.GetValue(NewConnection),
            parse.GetValue(Seed),
            new KmsClientOptions
            {
                OfferNdr64 = !parse.GetValue(NoNdr64),
                OfferBtfn = !parse.GetValue(NoBtfn),
                ConnectTimeout = timeout,
                ReceiveTimeout = timeout,
            },
            Rate: parse.GetValue(Rate) is var rate and > 0 ? rate : null,
            KeepAcknowledged: parse.GetValue(Acknowledged) is not null);
    }

    private static void AddRange(Option<int> option, int min, int max, string name) => option.Validators.Add(result =>
    {
        if (result.GetValueOrDefault<int>() is var value && (value < min || value > max))
        {
            result.AddError($"{name} must be between {min} and {max}.");
        }
    });

    private Task<int> RunAsync(ParseResult parse, CancellationToken cancellationToken) =>
        LoadRunner.RunAsync(
            GetSettings(parse), Dns.GetSettings(parse), _catalog, parse.GetValue(Json), parse.GetValue(Acknowledged), parse.GetValue(Timeline),
            parse.InvocationConfiguration.Output, parse.InvocationConfiguration.Error, cancellationToken);
}
