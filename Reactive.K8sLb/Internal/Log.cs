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
}
