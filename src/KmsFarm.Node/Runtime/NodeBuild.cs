using System.Reflection;

namespace KmsFarm.Node.Runtime;

/// <summary>The build this node runs, as it reports itself in the node registry.</summary>
public static class NodeBuild
{
    /// <summary>The node assembly's informational version (e.g. <c>1.0.0+3f2a…</c> with the commit when built from git).</summary>
    public static string Version { get; } =
        typeof(NodeBuild).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(NodeBuild).Assembly.GetName().Version?.ToString()
        ?? "unknown";
}
