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

    /// <summary>The number of shared watches alive whose key matches, lingering ones included. Internal for testing.</summary>
    internal static int CountWhere(Func<SharedWatchKey, bool> predicate)
    {
        lock (Gate) return Watches.Keys.Count(predicate);
    }

    /// <summary>
    /// The signals of the shared watch for <paramref name="config"/> and <paramref name="client"/>; cold: each
    /// subscription joins (or starts) the watch whose key its configuration has at that moment, and leaves it on disposal.
    /// </summary>
    public static IObservable<DiscoverySignal> Signals(DiscoveryConfig config, IKubernetes? client) => new Source(config, client);

    /// <summary>A subscription has left: at zero, start the linger.</summary>
    internal static void Release(SharedWatch watch)
    {
        long generation;
        lock (Gate)
        {
            if (--watch.References > 0) return;
            generation = ++watch.Generation;
        }

        // A caller's client may be disposed right after its last subscription: stop now rather than watch on with it.
        if (watch.UsesCallersClient || watch.Key.Linger <= TimeSpan.Zero)
        {
            Expire(watch, generation);
            return;
        }

        // Timers are set and cancelled outside the lock: a scheduler may take locks of its own, and run due work under them.
        IDisposable timer;
        try
        {
            timer = watch.Key.Scheduler.Schedule(watch.Key.Linger, () => Expire(watch, generation));
        }
        catch (Exception ex) when (ex is ObjectDisposedException or InvalidOperationException)
        {
            // A scheduler that can no longer take work (disposed): without a timer the watch would run forever.
            Expire(watch, generation);
            return;
        }

        lock (Gate)
        {
            // Still the pending stop (not yet fired, no subscription back meanwhile): keep it, to cancel on a return.
            if (watch.Generation == generation && watch.References == 0 && watch.Linger is null && Watches.ContainsKey(watch.Key))
            {
                watch.Linger = timer;
                return;
            }
        }

        timer.Dispose();
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
        IDisposable? pendingStop = null;
        lock (Gate)
        {
            if (!Watches.TryGetValue(key, out watch!))
            {
                watch = new SharedWatch(key, config, client);
                Watches.Add(key, watch);
            }

            if (watch.References++ == 0)
            {
                // Back from zero within the linger: the pending stop is off (a timer that fires anyway finds a newer generation).
                watch.Generation++;
                pendingStop = watch.Linger;
                watch.Linger = null;
            }
        }

        pendingStop?.Dispose();
        return watch.Join(observer);
    }

    private static void Expire(SharedWatch watch, long generation)
    {
        lock (Gate)
        {
            if (watch.References > 0 || watch.Generation != generation) return;

            // Bumped so that a Release still on its way to storing this timer drops it instead.
            watch.Generation++;
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
