using Reactive.K8sLb.Internal;
using System.Reactive.Linq;

namespace Reactive.K8sLb.Linq;

/// <summary>The diffing core as an operator: EndpointSlice events in, endpoint changes out.</summary>
public static class SliceObservableExtensions
{
    /// <summary>
    /// Projects each slice to endpoints (address family, port and readiness per <paramref name="config"/>), keeps
    /// per-slice state keyed by namespace/name, and emits only the NET changes of the effective set: an endpoint
    /// removed from a modified slice is removed; one present in two slices stays until it is gone from both; a reset
    /// (a complete set of slices) removes what vanished and leaves unchanged endpoints alone. Changes are debounced
    /// per <see cref="DiscoveryOptions.Debounce"/> on <see cref="DiscoveryOptions.Scheduler"/>. The first reset marks
    /// the stream synchronized (see <see cref="IDiscoveryObservable.Updates"/>), even when it is empty. Errors and
    /// completion of the source pass through after buffered changes are emitted.
    /// </summary>
    /// <param name="source">Slice events of one Service.</param>
    /// <param name="config">Port, readiness, address family, debounce, scheduler and logging.</param>
    /// <returns>The endpoint changes, with status available through <see cref="IDiscoveryObservable.Updates"/>.</returns>
    public static IDiscoveryObservable ToEndpointChanges(this IObservable<SliceEvent> source, DiscoveryConfig config)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        var loggers = config.CreateScopedLoggerFactory();
        return new DiscoveryObservable(DiscoveryPipeline.ToUpdates(source.Select(sliceEvent => DiscoverySignal.Slice(sliceEvent)), config, loggers), loggers);
    }
}
