using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>Keeps the last warnings and errors of an in-process silo, for failure messages.</summary>
internal sealed class SiloLog : ILoggerProvider, ILogger
{
    private const int Keep = 200;

    private readonly ConcurrentQueue<string> _lines = new();

    public string Text => string.Join('\n', _lines);

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel))
        {
            return;
        }

        string error = exception is null ? "" : $" {exception.GetType().Name}: {exception.Message}";
        _lines.Enqueue($"{DateTime.UtcNow:HH:mm:ss.fff} {logLevel}: {formatter(state, exception)}{error}");
        while (_lines.Count > Keep && _lines.TryDequeue(out _))
        {
        }
    }

    public void Dispose()
    {
    }
}
