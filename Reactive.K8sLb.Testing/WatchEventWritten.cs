using k8s;

namespace Reactive.K8sLb.Testing;

/// <summary>Describes one watch event line that the emulator has written and flushed to a watcher.</summary>
/// <param name="WatcherId">The emulator-assigned id of the watch connection (increasing per watch request).</param>
/// <param name="EventType">The event type.</param>
/// <param name="SliceName">The name of the EndpointSlice in the event, or <see langword="null"/> for BOOKMARK and ERROR events.</param>
/// <param name="ResourceVersion">The resourceVersion carried by the event (0 for ERROR events).</param>
/// <param name="Timestamp">The <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/> value right after the flush.</param>
public readonly record struct WatchEventWritten(
    long WatcherId,
    WatchEventType EventType,
    string? SliceName,
    long ResourceVersion,
    long Timestamp);
