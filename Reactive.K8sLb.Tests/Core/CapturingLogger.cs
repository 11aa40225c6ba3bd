using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Tests.Core;

/// <summary>A logger factory that records every log entry of every logger it creates.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    public List<(LogLevel Level, EventId EventId, string Message)> Entries { get; } = [];

    public ILogger CreateLogger(string categoryName) => new CapturingLogger(Entries);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    public int Count(LogLevel level) => Entries.Count(e => e.Level == level);

    private sealed class CapturingLogger(List<(LogLevel, EventId, string)> entries) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            entries.Add((logLevel, eventId, formatter(state, exception)));
    }
}
