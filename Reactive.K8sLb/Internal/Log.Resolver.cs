using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>The resolver's log messages (3xx).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 301, Level = LogLevel.Debug, Message = "Resolver {Target} published {Count} addresses.")]
    public static partial void PublishedAddresses(ILogger logger, string target, int count);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Resolver {Target} published a failure: {Detail}")]
    public static partial void PublishedFailure(ILogger logger, string target, string detail);

    [LoggerMessage(EventId = 303, Level = LogLevel.Error, Message = "Resolver {Target}: the channel's listener threw.")]
    public static partial void ListenerFailed(ILogger logger, string target, Exception exception);

    [LoggerMessage(EventId = 304, Level = LogLevel.Warning, Message = "Resolver {Target}: discovery is failing; the last known {Count} addresses stay in force. {Detail}")]
    public static partial void KeepingLastKnown(ILogger logger, string target, int count, string detail);
}
