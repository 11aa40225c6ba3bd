using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>The balancer's log messages (4xx; 404-406 outlier ejection).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 401, Level = LogLevel.Debug, Message = "Balancer: {Count} addresses ({Created} new subchannels, {Removed} removed).")]
    public static partial void AddressesUpdated(ILogger logger, int count, int created, int removed);

    [LoggerMessage(EventId = 402, Level = LogLevel.Debug, Message = "Balancer: no address set ({Reason}): {Detail}")]
    public static partial void NoAddressSet(ILogger logger, AddressSetUnavailableReason reason, string detail);

    [LoggerMessage(EventId = 403, Level = LogLevel.Debug, Message = "Balancer: the resolver reported an error; the {Count} ready subchannels stay in use. {Detail}")]
    public static partial void KeepingReadySetDespiteResolverError(ILogger logger, int count, string detail);

    [LoggerMessage(EventId = 404, EventName = "EndpointEjected", Level = LogLevel.Warning, Message = "Ejected {Endpoint} for {Seconds} s: {Evidence}.")]
    public static partial void EndpointEjected(ILogger logger, string endpoint, string seconds, string evidence);

    [LoggerMessage(EventId = 405, EventName = "EndpointReadmitted", Level = LogLevel.Information, Message = "Readmitted {Endpoint} after {Seconds} s of ejection.")]
    public static partial void EndpointReadmitted(ILogger logger, string endpoint, string seconds);

    [LoggerMessage(EventId = 406, EventName = "EjectionRefused", Level = LogLevel.Information, Message = "Not ejecting {Endpoint} ({Evidence}): {Why}.")]
    public static partial void EjectionRefused(ILogger logger, string endpoint, string evidence, string why);
}
