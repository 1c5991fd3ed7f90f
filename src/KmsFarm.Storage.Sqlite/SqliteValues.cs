using Microsoft.Data.Sqlite;

namespace KmsFarm.Storage.Sqlite;

/// <summary>How values are stored: times as UTC ticks (exact), GUIDs as lower-case "D" text (readable in the shell).</summary>
internal static class SqliteValues
{
    public static long ToTicks(DateTimeOffset time) => time.UtcTicks;

    public static DateTimeOffset FromTicks(long ticks) => new(ticks, TimeSpan.Zero);

    public static string ToText(Guid id) => id.ToString("D");

    public static Guid GetGuidText(this SqliteDataReader reader, int ordinal) => Guid.Parse(reader.GetString(ordinal));

    public static DateTimeOffset GetTicks(this SqliteDataReader reader, int ordinal) => FromTicks(reader.GetInt64(ordinal));
}
