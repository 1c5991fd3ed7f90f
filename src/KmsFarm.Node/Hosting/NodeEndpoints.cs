using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace KmsFarm.Node.Hosting;

/// <summary>The node's listeners. After start, <see cref="KmsEndPoints"/> and <see cref="HttpEndPoint"/> hold the bound
/// addresses (Kestrel writes the real port back into the listen options when port 0 was asked for).</summary>
public sealed class NodeEndpoints
{
    internal List<ListenOptions> Kms { get; } = [];

    internal ListenOptions? Http { get; set; }

    public IReadOnlyList<IPEndPoint> KmsEndPoints => Kms.Select(l => l.IPEndPoint!).ToArray();

    public IPEndPoint? HttpEndPoint => Http?.IPEndPoint;
}
