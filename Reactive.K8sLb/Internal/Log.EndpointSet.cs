using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>The endpoint set's log messages (1xx, continued).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 107, Level = LogLevel.Warning, Message = "The endpoint set is empty: {Reason}.")]
    public static partial void EndpointSetEmpty(ILogger logger, string reason);
}
