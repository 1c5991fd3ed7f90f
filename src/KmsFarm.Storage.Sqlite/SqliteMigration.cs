namespace KmsFarm.Storage.Sqlite;

/// <summary>One embedded schema script.</summary>
internal sealed record SqliteMigration(int Version, string Name, string Sql);
