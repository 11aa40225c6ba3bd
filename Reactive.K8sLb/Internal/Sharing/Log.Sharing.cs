using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>Messages of the shared watches (6xx).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 601, Level = LogLevel.Error, Message = "A subscriber of the shared watch of {Service} threw; the watch and the other subscribers go on.")]
    public static partial void SharedSubscriberFailed(ILogger logger, Exception exception, string service);
}
