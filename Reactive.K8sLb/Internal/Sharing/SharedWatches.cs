using System.Reactive.Concurrency;
using k8s;

namespace Reactive.K8sLb.Internal.Sharing;

/// <summary>
/// The process-wide registry of shared watches (<see cref="DiscoveryOptions.ShareWatch"/>): one
/// <see cref="SharedWatch"/> per <see cref="SharedWatchKey"/>, reference-counted by its subscriptions. The first
/// subscription starts the watch; when the last one leaves, the watch lingers for
/// <see cref="DiscoveryOptions.ShareLinger"/> (5 seconds by default, on the configuration's scheduler) so that a
/// subscription made meanwhile (a channel recreated, a resolver restarted) takes it over without a new LIST; then it
/// stops and its client lease ends.
/// </summary>
internal static class SharedWatches
{
    private static readonly object Gate = new();
    private static readonly Dictionary<SharedWatchKey, SharedWatch> Watches = [];

    /// <summary>The number of shared watches alive, lingering ones included. Internal for testing.</summary>
    internal static int Count
    {
        get
        {
            lock (Gate) return Watches.Count;
        }
    }

    /// <summary>
    /// The signals of the shared watch for <paramref name="config"/> and <paramref name="client"/>; cold: each
    /// subscription joins (or starts) the watch whose key its configuration has at that moment, and leaves it on disposal.
    /// </summary>
    public static IObservable<DiscoverySignal> Signals(DiscoveryConfig config, IKubernetes? client) => new Source(config, client);

    /// <summary>A subscription has left: at zero, start the linger.</summary>
    internal static void Release(SharedWatch watch)
    {
        lock (Gate)
        {
            if (--watch.References > 0) return;
            var generation = ++watch.Generation;
            watch.Linger = watch.Key.Scheduler.Schedule(watch.Key.Linger, () => Expire(watch, generation));
        }
    }

    /// <summary>The watch ended on its own: new subscriptions start another.</summary>
    internal static void Forget(SharedWatch watch)
    {
        lock (Gate)
        {
            if (Watches.TryGetValue(watch.Key, out var current) && ReferenceEquals(current, watch)) Watches.Remove(watch.Key);
        }
    }

    private static IDisposable Acquire(DiscoveryConfig config, IKubernetes? client, IObserver<DiscoverySignal> observer)
    {
        var key = SharedWatchKey.Of(config, client);
        SharedWatch watch;
        lock (Gate)
        {
            if (!Watches.TryGetValue(key, out watch!))
            {
                watch = new SharedWatch(key, config, client);
                Watches.Add(key, watch);
            }

            if (watch.References++ == 0)
            {
                // Back from zero within the linger: the pending stop is off.
                watch.Generation++;
                watch.Linger?.Dispose();
                watch.Linger = null;
            }
        }

        return watch.Join(observer);
    }

    private static void Expire(SharedWatch watch, long generation)
    {
        lock (Gate)
        {
            if (watch.References > 0 || watch.Generation != generation) return;
            watch.Linger = null;
            if (Watches.TryGetValue(watch.Key, out var current) && ReferenceEquals(current, watch)) Watches.Remove(watch.Key);
        }

        watch.Dispose();
    }

    /// <summary>Not <c>Observable.Create</c>: its auto-detaching observer would leave the watch when a subscriber throws.</summary>
    private sealed class Source(DiscoveryConfig config, IKubernetes? client) : IObservable<DiscoverySignal>
    {
        public IDisposable Subscribe(IObserver<DiscoverySignal> observer)
        {
            ArgumentNullException.ThrowIfNull(observer);
            return Acquire(config, client, observer);
        }
    }
}
