using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using KmsFarm.Client;
using KmsFarm.Protocol.Catalog;
using KmsFarm.Protocol.Kms;
using KmsFarm.TestKit;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>What the metrics tests send to a farm of node processes: activations of a chosen product (so a test decides
/// which node hosts which product group: the first caller's), a request for an application no catalog knows, a truncated
/// PDU, connections over a node's cap, and a run of the load generator's command line.</summary>
internal static class FarmTraffic
{
    public static readonly ClientProduct WindowsPro = FarmTests.Windows;

    public static readonly ClientProduct OfficeLtsc = FarmTests.Office;

    public static readonly ClientProduct Office2010 = ClientCatalog.Default.Products.First(p =>
        p.Group == ProductGroup.Office2010 && !p.Name.Contains("Preview", StringComparison.OrdinalIgnoreCase));

    /// <summary>One activation over a fresh connection; returns the HRESULT (0 when activated).</summary>
    public static async Task<uint> ActivateAsync(
        NodeProcess node, ClientProduct product, string machine, CancellationToken cancellationToken, Guid? applicationId = null)
    {
        await using var client = await KmsClientConnection.ConnectAsync("127.0.0.1", node.KmsEndPoint.Port, null, cancellationToken);
        var request = KmsRequestFactory.Create(product, Guid.NewGuid(), machine, KmsProtocolVersion.V6, DateTime.UtcNow);
        if (applicationId is { } id)
        {
            request.ApplicationId = id;
        }

        return (await client.ActivateAsync(KmsProtocolVersion.V6, request, cancellationToken)).HResult;
    }

    /// <summary>Five bytes of an RPC header and the end of the stream: the node counts a protocol error (truncated).</summary>
    public static async Task SendTruncatedPduAsync(NodeProcess node, CancellationToken cancellationToken)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(node.KmsEndPoint, cancellationToken);
        await socket.SendAsync(new byte[] { 5, 0, 11, 3, 16 }, SocketFlags.None, cancellationToken);
        socket.Shutdown(SocketShutdown.Send);
        while (await socket.ReceiveAsync(new byte[64], SocketFlags.None, cancellationToken) > 0)
        {
        }
    }

    /// <summary>Opens <paramref name="count"/> idle connections at once (more than the node's cap refuses), then closes them.</summary>
    public static async Task OpenConnectionsAsync(NodeProcess node, int count, CancellationToken cancellationToken)
    {
        var sockets = new List<Socket>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, node.KmsEndPoint.Port), cancellationToken);
            }

            // Give the node a moment to accept (and refuse) them all before they close.
            await Task.Delay(500, cancellationToken);
        }
        finally
        {
            foreach (var socket in sockets)
            {
                socket.Dispose();
            }
        }
    }

    /// <summary>Runs <c>kmsfarm-client load --hosts … --json</c> (the client's build sits beside the tests) and returns its
    /// exit code and JSON report.</summary>
    public static async Task<(int ExitCode, string Report)> RunLoadAsync(
        IReadOnlyList<NodeProcess> nodes, int clients, TimeSpan duration, int concurrency, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(NodeCommand.DotnetHost())
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        string[] arguments =
        [
            Path.Combine(AppContext.BaseDirectory, "kmsfarm-client.dll"), "load",
            "--hosts", string.Join(',', nodes.Select(n => n.KmsEndPoint.ToString())),
            "--clients", clients.ToString(CultureInfo.InvariantCulture),
            "--duration", ((int)duration.TotalSeconds).ToString(CultureInfo.InvariantCulture) + "s",
            "--concurrency", concurrency.ToString(CultureInfo.InvariantCulture),
            "--json",
        ];
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("Could not start the load generator.");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return (process.ExitCode, await output + await error);
    }
}
