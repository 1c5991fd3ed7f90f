using System.Net;

namespace KmsFarm.Node.Connections;

/// <summary>An admitted connection's hold on the node's and its source's connection slots (<see cref="ConnectionAdmission"/>).</summary>
public sealed class AdmissionTicket
{
    internal AdmissionTicket(IPAddress source, ConnectionAdmission.Source? state)
    {
        Source = source;
        State = state;
    }

    /// <summary>The source address the connection is counted against.</summary>
    public IPAddress Source { get; }

    /// <summary>Null for a source beyond <see cref="ConnectionAdmission.MaxTrackedSources"/>.</summary>
    internal ConnectionAdmission.Source? State { get; }

    /// <summary>Set once released, under the admission lock.</summary>
    internal bool Released { get; set; }
}
