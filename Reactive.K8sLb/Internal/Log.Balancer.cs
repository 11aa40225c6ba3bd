using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>The balancer's log messages (4xx).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 401, Level = LogLevel.Debug, Message = "Balancer: {Count} addresses ({Created} new subchannels, {Removed} removed).")]
    public static partial void AddressesUpdated(ILogger logger, int count, int created, int removed);

    [LoggerMessage(EventId = 402, Level = LogLevel.Debug, Message = "Balancer: no address set ({Reason}): {Detail}")]
    public static partial void NoAddressSet(ILogger logger, AddressSetUnavailableReason reason, string detail);

    [LoggerMessage(EventId = 403, Level = LogLevel.Debug, Message = "Balancer: the resolver reported an error; the {Count} ready subchannels stay in use. {Detail}")]
    public static partial void KeepingReadySetDespiteResolverError(ILogger logger, int count, string detail);
}
