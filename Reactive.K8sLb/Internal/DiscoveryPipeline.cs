using System.Diagnostics;
using System.Net;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Signals -> diffing core -> debounce -> updates. The first complete snapshot and every status change flush at once
/// (never delayed by the quiet window); ordinary changes are debounced per the configuration (by default on the
/// leading edge: a change after a quiet period goes out at once, the burst that follows it is conflated).
/// A synchronized empty set carries the reason in the status message (no slices, a port no slice defines, no ready
/// endpoint), unless a failure message takes its place.
/// </summary>
internal static class DiscoveryPipeline
{
    public static IObservable<DiscoveryUpdate> ToUpdates(IObservable<DiscoverySignal> signals, DiscoveryConfig config, ServiceScopedLoggerFactory loggers) =>
        Observable.Create<DiscoveryUpdate>(observer =>
        {
            var logger = loggers.CreateLogger("Reactive.K8sLb.Discovery");
            var tracker = new EndpointSetTracker(config, logger);
            var gate = new object();
            var status = DiscoveryStatus.Connecting;
            var @namespace = config.Namespace;
            string? lastEmpty = null;
            DiscoveryStatus? emitted = null;
            var instance = new DiscoveryInstance(config.ServiceName, config.Namespace, config.ReportHealth);

            // When the earliest slice event whose changes are held arrived (Stopwatch ticks; 0: none held), for the
            // resolver's event-to-publish delay.
            long heldSince = 0;

            var debouncer = new ChangeDebouncer<KubernetesEndpoint>(
                config.Debounce,
                config.MaxDebounceDelay,
                config.EffectiveScheduler,
                gate,
                changes =>
                {
                    var since = heldSince;
                    heldSince = 0;
                    if (changes.Count == 0 && Equals(status, emitted)) return;
                    emitted = status;
                    observer.OnNext(DiscoveryUpdate.FromEndpointChanges(changes, status, instance, changes.Count > 0 ? since : 0));
                },
                KubernetesEndpoint.ByEndPoint,
                leading: config.DebounceLeadingEdge,
                flushEmptyBatches: true);

            // The first change after the initial sync takes code that the LIST and the snapshot do not (a WATCH line,
            // the tracker's incremental path): warm it, once per process, while the LIST is in flight.
            WatchPathWarmup.Start(config);
            var registration = DiscoveryRegistry.Register(instance);
            var subscription = signals.Subscribe(
                signal =>
                {
                    lock (gate)
                    {
                        var arrived = Stopwatch.GetTimestamp();
                        var changes = signal.SliceEvent is { } sliceEvent ? tracker.Apply(sliceEvent) : [];
                        @namespace = signal.Namespace ?? @namespace;
                        loggers.Scope.Namespace = @namespace;
                        var empty = EmptySetMessage(tracker, config, @namespace);
                        if (empty is not null && empty != lastEmpty) Log.EndpointSetEmpty(logger, empty);
                        lastEmpty = empty;
                        status = new DiscoveryStatus(signal.Health, tracker.IsSynchronized, signal.Message ?? empty, signal.Error);
                        instance.Update(status, tracker.Counts, @namespace);
                        if (changes.Count > 0 && heldSince == 0) heldSince = arrived;
                        debouncer.Add(changes);

                        // Health and synchronisation go out at once; a new message alone (the set became empty or
                        // not) rides with the batch being held, which carries the status of its flush.
                        if (!Equals(status, emitted) && !(debouncer.IsHolding && SameButMessage(status, emitted))) debouncer.FlushNow();
                    }
                },
                error =>
                {
                    lock (gate)
                    {
                        debouncer.FlushNow();
                        observer.OnError(error);
                    }
                },
                () =>
                {
                    lock (gate)
                    {
                        debouncer.FlushNow();
                        observer.OnCompleted();
                    }
                });

            return new CompositeDisposable(subscription, debouncer, registration);
        });

    private static bool SameButMessage(DiscoveryStatus status, DiscoveryStatus? emitted) =>
        emitted is not null && status.Health == emitted.Health && status.IsSynchronized == emitted.IsSynchronized && ReferenceEquals(status.Error, emitted.Error);

    /// <summary>Why a synchronized set is empty, for the status and the log; <see langword="null"/> when it is not empty.</summary>
    private static string? EmptySetMessage(EndpointSetTracker tracker, DiscoveryConfig config, string? @namespace)
    {
        if (!tracker.IsSynchronized || tracker.Current.Count > 0) return null;
        var service = @namespace is null ? $"Service '{config.ServiceName}'" : $"Service {@namespace}/{config.ServiceName}";
        return tracker.EmptyReason switch
        {
            EmptySetReason.NoSlices => $"no EndpointSlices for {service}: check that the Service exists and has a selector",
            EmptySetReason.PortNotFound => $"port '{config.Port}' not found in any EndpointSlice of {service}",
            _ => $"no ready endpoints for {service}",
        };
    }
}
