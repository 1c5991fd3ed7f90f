using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace KmsFarm.TestKit;

/// <summary>Keeps every log entry of a host, at every level, for assertions on event ids and messages. Register with
/// <c>builder.Logging.AddProvider(p)</c> and <c>AddFilter&lt;CapturingLoggerProvider&gt;(null, LogLevel.Trace)</c> so the
/// node's <c>--log-level</c> (which the console obeys) does not hide entries from it.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<LogEntry> _entries = new();

    public IReadOnlyList<LogEntry> Entries => _entries.ToArray();

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _entries);

    public void Dispose()
    {
    }

    public sealed record LogEntry(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception)
    {
        /// <summary>When the entry was logged.</summary>
        public DateTimeOffset Time { get; init; } = DateTimeOffset.UtcNow;
    }

    private sealed class Logger(string category, ConcurrentQueue<LogEntry> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Enqueue(new LogEntry(category, logLevel, eventId, formatter(state, exception), exception));
    }
}
