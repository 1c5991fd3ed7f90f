using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace KmsFarm.Storage.Postgres.Tests;

/// <summary>Collects the event names logged at any level, for asserting what the store did.</summary>
internal sealed class ListLoggerFactory : ILoggerFactory, ILogger
{
    public ConcurrentQueue<string> Events { get; } = new();

    public ILogger CreateLogger(string categoryName) => this;

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (eventId.Name is not null)
        {
            Events.Enqueue(eventId.Name);
        }
    }

    public void Dispose()
    {
    }
}
