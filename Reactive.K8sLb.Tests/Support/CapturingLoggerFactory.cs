using System.Collections.Immutable;
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
    private readonly List<(EventId EventId, string Message, IReadOnlyList<object> Scopes, string Category)> _scoped = [];
    private readonly AsyncLocal<ImmutableStack<object>> _scopes = new();

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

    /// <summary>The entries with the scope states active when each was written (outermost first).</summary>
    public IReadOnlyList<(EventId EventId, string Message, IReadOnlyList<object> Scopes, string Category)> ScopedEntries
    {
        get
        {
            lock (_entries)
            {
                return [.. _scoped];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(this, categoryName);

    public void AddProvider(ILoggerProvider provider)
    {
    }

    public void Dispose()
    {
    }

    private void Add(LogLevel level, EventId eventId, string message, Exception? exception, string category)
    {
        lock (_entries)
        {
            _entries.Add((level, eventId, message));
            _scoped.Add((eventId, message, (_scopes.Value ?? ImmutableStack<object>.Empty).Reverse().ToArray(), category));
            if (exception is not null) _exceptions.Add((eventId, exception));
        }
    }

    private sealed class CapturingLogger(CapturingLoggerFactory owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull
        {
            var before = owner._scopes.Value ?? ImmutableStack<object>.Empty;
            owner._scopes.Value = before.Push(state);
            return new Scope(() => owner._scopes.Value = before);
        }

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(logLevel, eventId, formatter(state, exception), exception, category);
    }

    private sealed class Scope(Action end) : IDisposable
    {
        public void Dispose() => end();
    }
}
