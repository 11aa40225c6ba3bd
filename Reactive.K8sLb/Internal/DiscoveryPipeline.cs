using System.Net;
using System.Reactive.Disposables;
using System.Reactive.Linq;
using Microsoft.Extensions.Logging;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Signals -> diffing core -> debounce -> updates. The first complete snapshot and every status change flush at once
/// (never delayed by the quiet window); ordinary changes are debounced per the configuration (by default on the
/// leading edge: a change after a quiet period goes out at once, the burst that follows it is conflated).
/// </summary>
internal static class DiscoveryPipeline
{
    public static IObservable<DiscoveryUpdate> ToUpdates(IObservable<DiscoverySignal> signals, DiscoveryConfig config) =>
        Observable.Create<DiscoveryUpdate>(observer =>
        {
            var logger = config.EffectiveLoggerFactory.CreateLogger("Reactive.K8sLb.Discovery");
            var tracker = new EndpointSetTracker(config, logger);
            var gate = new object();
            var status = DiscoveryStatus.Connecting;
            DiscoveryStatus? emitted = null;

            var debouncer = new ChangeDebouncer<EndPoint>(
                config.Debounce,
                config.MaxDebounceDelay,
                config.EffectiveScheduler,
                gate,
                changes =>
                {
                    if (changes.Count == 0 && Equals(status, emitted)) return;
                    emitted = status;
                    observer.OnNext(new DiscoveryUpdate(changes, status));
                },
                leading: config.DebounceLeadingEdge);

            var subscription = signals.Subscribe(
                signal =>
                {
                    lock (gate)
                    {
                        var changes = signal.SliceEvent is { } sliceEvent ? tracker.Apply(sliceEvent) : [];
                        status = new DiscoveryStatus(signal.Health, tracker.IsSynchronized, signal.Message, signal.Error);
                        debouncer.Add(changes);
                        if (!Equals(status, emitted)) debouncer.FlushNow();
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

            return new CompositeDisposable(subscription, debouncer);
        });
}
