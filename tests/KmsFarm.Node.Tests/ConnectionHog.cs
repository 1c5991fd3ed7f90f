using System.Net;
using System.Net.Sockets;

namespace KmsFarm.Node.Tests;

/// <summary>One source taking all the connections it can: <c>slots</c> sockets from one local address that connect and
/// send nothing; each socket the node closes is opened again after <c>reconnectDelay</c>, until disposed. What a hostile
/// or broken machine on the lab network does, bounded: the slots are fixed and the loops end on dispose.</summary>
internal sealed class ConnectionHog : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _slots;
    private long _connects;
    private long _closedByNode;
    private int _open;

    private ConnectionHog(IPEndPoint node, string localAddress, int slots, TimeSpan reconnectDelay)
    {
        _slots = Enumerable.Range(0, slots).Select(_ => Task.Run(() => HoldAsync(node, localAddress, reconnectDelay))).ToArray();
    }

    /// <summary>Connections made so far (the first round and every reconnect).</summary>
    public long Connects => Interlocked.Read(ref _connects);

    /// <summary>Connections the node closed so far.</summary>
    public long ClosedByNode => Interlocked.Read(ref _closedByNode);

    /// <summary>Connections open now (the node may be about to close some).</summary>
    public int Open => Volatile.Read(ref _open);

    public static ConnectionHog Start(IPEndPoint node, string localAddress, int slots, TimeSpan reconnectDelay) =>
        new(node, localAddress, slots, reconnectDelay);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_slots);
        _stop.Dispose();
    }

    private async Task HoldAsync(IPEndPoint node, string localAddress, TimeSpan reconnectDelay)
    {
        var token = _stop.Token;
        while (!token.IsCancellationRequested)
        {
            try
            {
                using var socket = await AdmissionClient.OpenRawAsync(node, localAddress, token);
                Interlocked.Increment(ref _connects);
                Interlocked.Increment(ref _open);
                try
                {
                    await AdmissionClient.ReadUntilClosedAsync(socket, token);
                    Interlocked.Increment(ref _closedByNode);
                }
                finally
                {
                    Interlocked.Decrement(ref _open);
                }

                await Task.Delay(reconnectDelay, token);
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (SocketException)
            {
                // Refused or out of ports for a moment: try again later, as a real one would.
                try
                {
                    await Task.Delay(reconnectDelay, token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
