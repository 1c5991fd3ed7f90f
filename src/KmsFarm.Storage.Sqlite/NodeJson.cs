using System.Text.Json.Serialization;

namespace KmsFarm.Storage.Sqlite;

/// <summary>Source-generated JSON for the node registry's endpoint list (no reflection).</summary>
[JsonSerializable(typeof(string[]))]
internal sealed partial class NodeJson : JsonSerializerContext;
