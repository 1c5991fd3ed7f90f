using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Grains.Tests;

/// <summary>Keeps the warnings and errors of a cluster's silos (with the silo's name), for a failing test's message.</summary>
internal sealed class SiloLog
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyList<string> Lines => _lines.ToArray();

    public ILoggerProvider ProviderFor(string siloName) => new Provider(this, siloName);

    public void Note(string line) => _lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} test: {line}");

    public string Tail(int lines) => string.Join('\n', Lines.TakeLast(lines));

    private sealed class Provider(SiloLog log, string silo) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => new Logger(log, silo, categoryName);

        public void Dispose()
        {
        }
    }

    private sealed class Logger(SiloLog log, string silo, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                log._lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {silo} {logLevel} {category}: {formatter(state, exception)}" +
                    (exception is null ? "" : " | " + exception.GetType().Name + ": " + exception.Message));
            }
        }
    }
}
