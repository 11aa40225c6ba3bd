using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Tests.Support;

/// <summary>
/// A logger factory that records every entry (level, event id, formatted message) of every logger it creates, for
/// asserting on warnings, errors and event ids. Safe to log to from several threads.
/// </summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    private readonly List<(LogLevel Level, EventId EventId, string Message)> _entries = [];
    private readonly List<(EventId EventId, Exception Exception)> _exceptions = [];

    /// <summary>A snapshot of the entries recorded so far.</summary>
    public IReadOnlyList<(LogLevel Level, EventId EventId, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    /// <summary>The exceptions logged so far, with the event id of their entry.</summary>
    public IReadOnlyList<(EventId EventId, Exception Exception)> Exceptions
    {
        get
        {
            lock (_entries)
            {
                return [.. _exceptions];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private void Add(LogLevel level, EventId eventId, string message, Exception? exception)
    {
        lock (_entries)
        {
            _entries.Add((level, eventId, message));
            if (exception is not null) _exceptions.Add((eventId, exception));
        }
    }

    private sealed class CapturingLogger(CapturingLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(logLevel, eventId, formatter(state, exception), exception);
    }
}
