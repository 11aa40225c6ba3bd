using System.Net;
using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>The applier's log messages (5xx): user callbacks that fail.</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 501, Level = LogLevel.Warning, Message = "The address builder threw for endpoint {EndPoint}; it is skipped (insert and later remove) while it stays in the set.")]
    public static partial void BuildFailed(ILogger logger, Exception error, EndPoint endPoint);

    [LoggerMessage(EventId = 502, Level = LogLevel.Warning, Message = "The address builder returned null for endpoint {EndPoint}; it is skipped (insert and later remove) while it stays in the set.")]
    public static partial void BuildReturnedNull(ILogger logger, EndPoint endPoint);

    [LoggerMessage(EventId = 503, Level = LogLevel.Error, Message = "The observer receiving discovered addresses threw; discovery continues.")]
    public static partial void ObserverFailed(ILogger logger, Exception error);
}
