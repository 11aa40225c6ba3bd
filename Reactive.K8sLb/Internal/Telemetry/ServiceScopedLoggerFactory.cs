using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal.Telemetry;

/// <summary>
/// Wraps a logger factory so that every message its loggers write is inside the discovery's <see cref="ServiceLogScope"/>.
/// The scope is entered per message, not around the subscription: discovery logs from timer and thread-pool callbacks
/// where an ambient scope would not flow. A disabled level costs nothing more than before.
/// </summary>
internal sealed class ServiceScopedLoggerFactory(ILoggerFactory inner, ServiceLogScope scope) : ILoggerFactory
{
    public ServiceLogScope Scope { get; } = scope;

    public ILogger CreateLogger(string categoryName) => new ScopedLogger(inner.CreateLogger(categoryName), Scope);

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    // The wrapped factory belongs to the user (or to the container).
    public void Dispose()
    {
    }

    private sealed class ScopedLogger(ILogger inner, ServiceLogScope scope) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!inner.IsEnabled(logLevel)) return;
            using (inner.BeginScope(scope))
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}
