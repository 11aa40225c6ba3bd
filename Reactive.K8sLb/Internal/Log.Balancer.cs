using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>The balancer's log messages (4xx; 404-406 outlier ejection; 407-412 active health checking).</summary>
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

    [LoggerMessage(EventId = 407, EventName = "HealthNotServing", Level = LogLevel.Warning, Message = "Health check of {Endpoint} says {Status}: excluded.")]
    public static partial void HealthNotServing(ILogger logger, string endpoint, string status);

    [LoggerMessage(EventId = 408, EventName = "HealthServingAgain", Level = LogLevel.Information, Message = "Health check of {Endpoint} says SERVING: readmitted.")]
    public static partial void HealthServingAgain(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 409, EventName = "HealthServing", Level = LogLevel.Debug, Message = "Health check of {Endpoint} says SERVING.")]
    public static partial void HealthServing(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 410, EventName = "HealthUnimplemented", Level = LogLevel.Warning, Message = "Health check of {Endpoint}: the server does not implement grpc.health.v1.Health (UNIMPLEMENTED); taken as healthy, not checked again.")]
    public static partial void HealthUnimplemented(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 411, EventName = "HealthStreamFailed", Level = LogLevel.Debug, Message = "Health check stream of {Endpoint} failed ({Failure}); reopening in {Seconds} s, the last answer stays.")]
    public static partial void HealthStreamFailed(ILogger logger, string endpoint, string failure, string seconds);

    [LoggerMessage(EventId = 412, EventName = "HealthCheckUnavailable", Level = LogLevel.Warning, Message = "Active health checking is configured, but this channel cannot send health checks: only a BalancedChannel routes them over its endpoints' connections. No endpoint of a k8s:/// channel built with GrpcChannel.ForAddress is health-checked.")]
    public static partial void HealthCheckUnavailable(ILogger logger);
    [LoggerMessage(EventId = 413, EventName = "TopologyLocal", Level = LogLevel.Information, Message = "Topology: calls go to {Local} of {Total} endpoints, {Why}.")]
    public static partial void TopologyLocal(ILogger logger, int local, int total, string why);

    [LoggerMessage(EventId = 414, EventName = "TopologyAll", Level = LogLevel.Information, Message = "Topology: calls go to all {Total} endpoints: {Why}.")]
    public static partial void TopologyAll(ILogger logger, int total, string why);

    [LoggerMessage(EventId = 415, EventName = "TopologySpillOver", Level = LogLevel.Information, Message = "Topology: {LocalPercent}% of calls go to the {Local} endpoints {Why}, the rest to the other {Others}: zone {Zone} holds {ZonePercent}% of the endpoints, below its local share of {SharePercent}%.")]
    public static partial void TopologySpillOver(ILogger logger, int localPercent, int local, string why, int others, string zone, int zonePercent, int sharePercent);

    [LoggerMessage(EventId = 416, EventName = "TopologyLocalUnreachable", Level = LogLevel.Warning, Message = "Topology: no local endpoint is connected ({Local} {Why}); calls go to the other {Others} endpoints meanwhile.")]
    public static partial void TopologyLocalUnreachable(ILogger logger, int local, string why, int others);

    [LoggerMessage(EventId = 417, EventName = "TopologyLocalExcluded", Level = LogLevel.Warning, Message = "Topology: every local endpoint is excluded (ejected or not serving); calls go to the other {Others} endpoints until one is readmitted.")]
    public static partial void TopologyLocalExcluded(ILogger logger, int others);

    [LoggerMessage(EventId = 418, EventName = "TopologyLocalUsable", Level = LogLevel.Information, Message = "Topology: a local endpoint takes calls again.")]
    public static partial void TopologyLocalUsable(ILogger logger);

    [LoggerMessage(EventId = 419, EventName = "TopologyAllQuiet", Level = LogLevel.Debug, Message = "Topology: calls go to all {Total} endpoints: {Why}.")]
    public static partial void TopologyAllQuiet(ILogger logger, int total, string why);
}
