using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>Every log message of the library, with stable event ids (1xx projection, 2xx watch, 3xx resolver).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "EndpointSlice {Slice} has unknown addressType '{AddressType}'; it contributes no endpoints.")]
    public static partial void UnknownAddressType(ILogger logger, string slice, string? addressType);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "EndpointSlice {Slice} has an invalid {AddressType} address '{Address}'; it is skipped.")]
    public static partial void InvalidAddress(ILogger logger, string slice, string? addressType, string? address);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "EndpointSlice {Slice} has no port named '{PortName}'; it contributes no endpoints.")]
    public static partial void NamedPortMissing(ILogger logger, string slice, string portName);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "EndpointSlice without a name in namespace '{Namespace}' is ignored.")]
    public static partial void SliceWithoutName(ILogger logger, string? @namespace);

    [LoggerMessage(EventId = 105, Level = LogLevel.Debug, Message = "Endpoint set of {Service}: {Inserted} inserted, {Removed} removed, {Count} now.")]
    public static partial void EndpointsChanged(ILogger logger, string service, int inserted, int removed, int count);

    [LoggerMessage(EventId = 106, Level = LogLevel.Information, Message = "Using terminating endpoints of {Service}: it has no ready endpoint.")]
    public static partial void UsingTerminatingFallback(ILogger logger, string service);

    [LoggerMessage(EventId = 201, Level = LogLevel.Debug, Message = "Listed {Count} EndpointSlices of {Service} in {Namespace} at resourceVersion {ResourceVersion}.")]
    public static partial void Listed(ILogger logger, int count, string service, string @namespace, string? resourceVersion);

    [LoggerMessage(EventId = 202, Level = LogLevel.Debug, Message = "Watching EndpointSlices of {Service} in {Namespace} from resourceVersion {ResourceVersion} for up to {TimeoutSeconds} s.")]
    public static partial void Watching(ILogger logger, string service, string @namespace, string? resourceVersion, int timeoutSeconds);

    [LoggerMessage(EventId = 203, Level = LogLevel.Information, Message = "Watch of {Service} expired (410 Gone): relisting.")]
    public static partial void WatchExpired(ILogger logger, string service);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "Watch of {Service} delivered nothing for {IdleTimeout}: abandoning it and watching again.")]
    public static partial void WatchIdle(ILogger logger, string service, TimeSpan idleTimeout);

    [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "Watch of {Service} reported an unreadable event; it is skipped.")]
    public static partial void WatchEventSkipped(ILogger logger, Exception error, string service);

    [LoggerMessage(EventId = 206, Level = LogLevel.Warning, Message = "Kubernetes discovery of {Service} failed (retry {Attempt} in {Delay}): {Reason}")]
    public static partial void TransientFailure(ILogger logger, Exception error, string service, int attempt, TimeSpan delay, string reason);

    // Once per streak of refusals; the retries that follow in the same streak are 209 at Debug.
    [LoggerMessage(EventId = 207, Level = LogLevel.Error, Message = "Kubernetes discovery of {Service} is refused (retry {Attempt} in {Delay}): {Reason}")]
    public static partial void PermanentFailure(ILogger logger, Exception error, string service, int attempt, TimeSpan delay, string reason);

    [LoggerMessage(EventId = 208, Level = LogLevel.Debug, Message = "Watch of {Service} ended normally; resuming from resourceVersion {ResourceVersion}.")]
    public static partial void WatchEnded(ILogger logger, string service, string? resourceVersion);

    [LoggerMessage(EventId = 209, Level = LogLevel.Debug, Message = "Kubernetes discovery of {Service} is still refused (retry {Attempt} in {Delay}): {Reason}")]
    public static partial void PermanentFailureRepeated(ILogger logger, Exception error, string service, int attempt, TimeSpan delay, string reason);

    [LoggerMessage(EventId = 210, Level = LogLevel.Debug, Message = "Streamed {Count} EndpointSlices of {Service} in {Namespace} at resourceVersion {ResourceVersion} (a WATCH with sendInitialEvents, no LIST).")]
    public static partial void Streamed(ILogger logger, int count, string service, string @namespace, string? resourceVersion);

    [LoggerMessage(EventId = 211, Level = LogLevel.Warning, Message = "The API server does not support streaming lists for {Service} ({Reason}): using LIST + WATCH with this client from now on.")]
    public static partial void StreamingListUnsupported(ILogger logger, string service, string reason);

    [LoggerMessage(EventId = 212, Level = LogLevel.Information, Message = "Streaming list of {Service} expired (410 Gone) before its initial events were complete: starting it over.")]
    public static partial void StreamingListExpired(ILogger logger, string service);

    [LoggerMessage(EventId = 213, Level = LogLevel.Information, Message = "Streaming list of {Service} did not complete ({Reason}): listing with LIST + WATCH this time.")]
    public static partial void StreamingListFellBack(ILogger logger, string service, string reason);
}
