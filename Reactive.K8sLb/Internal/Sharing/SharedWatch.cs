using System.Collections.Concurrent;
using System.Reactive.Disposables;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.Internal.Sharing;

/// <summary>
/// One list/watch of a Service (<see cref="EndpointSliceWatcher.Signals"/>) whose signals fan out to every subscriber,
/// and the state a late subscriber needs: the current slices (after the first LIST), the namespace and the latest
/// health. A subscriber that joins gets that state replayed at once, as a reset with every current slice followed by
/// the latest failure if the watch is failing, then the live signals; its own tracker turns that into a first snapshot.
/// <para>
/// No lock is held while a subscriber runs: each has a queue, filled in order under the watch's lock and drained by
/// whichever thread finds it idle, so one subscriber's signals are delivered one at a time and in order, and a
/// subscriber that disposes itself (or another) from inside a callback cannot deadlock the watch. A subscriber that
/// throws is logged and keeps receiving; the watch and the other subscribers never see the exception.
/// </para>
/// The registry (<see cref="SharedWatches"/>) owns the reference count and the linger; this class owns the fan-out.
/// </summary>
internal sealed class SharedWatch : IObserver<DiscoverySignal>, IDisposable
{
    private readonly object _gate = new();
    private readonly DiscoveryConfig _config;
    private readonly IKubernetes? _client;
    private readonly ServiceScopedLoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly SingleAssignmentDisposable _upstream = new();
    private readonly Dictionary<string, V1EndpointSlice> _slices = new(StringComparer.Ordinal);
    private Subscriber[] _subscribers = [];
    private bool _connected;
    private bool _synchronized;
    private string? _namespace;
    private DiscoverySignal? _lastSignal;
    private Item? _terminal;

    public SharedWatch(SharedWatchKey key, DiscoveryConfig config, IKubernetes? client)
    {
        Key = key;

        // A snapshot: the caller's configuration is mutable, and the watch outlives its first subscriber. What the key
        // holds is taken from the key, read once: above all the API identity, whose own copy of the client configuration
        // the watch's lease builds its client from (null for the ambient identity and for a user's client, whose
        // namespace the key has resolved).
        _config = new DiscoveryConfig(config.ServiceName, config.Port) { Namespace = key.Namespace };
        config.CopyTo(_config);
        _config.ClientConfiguration = key.Api.Configuration;
        _config.Backoff = key.Backoff;
        _config.WatchTimeout = key.WatchTimeout;
        _config.IdleTimeout = key.IdleTimeout;
        _config.ListPageSize = key.ListPageSize;
        _config.StreamingLists = key.StreamingLists;
        _config.InitialEventsTimeout = key.InitialEventsTimeout;
        _config.Scheduler = key.Scheduler;
        _config.LoggerFactory = key.LoggerFactory;
        _config.ShareLinger = key.Linger;
        _client = client;
        _loggers = _config.CreateScopedLoggerFactory();
        _logger = _loggers.CreateLogger("Reactive.K8sLb.Discovery");
    }

    public SharedWatchKey Key { get; }

    /// <summary>Subscriptions holding the watch; guarded by the registry's lock.</summary>
    public int References { get; set; }

    /// <summary>Bumped when the count leaves zero, so that a stale linger timer does nothing; guarded by the registry's lock.</summary>
    public long Generation { get; set; }

    /// <summary>The pending linger timer, if any; guarded by the registry's lock.</summary>
    public IDisposable? Linger { get; set; }

    /// <summary>Adds a subscriber, replays the current state to it, and starts the watch for the first one.</summary>
    public IDisposable Join(IObserver<DiscoverySignal> observer)
    {
        var subscriber = new Subscriber(this, observer);
        bool connect;
        lock (_gate)
        {
            foreach (var signal in Replay()) subscriber.Enqueue(new Item(signal, null, false));
            if (_terminal is { } terminal) subscriber.Enqueue(terminal);
            else _subscribers = [.. _subscribers, subscriber];
            connect = !_connected;
            _connected = true;
        }

        subscriber.Drain();

        // Outside the lock (the watcher may report a failure synchronously while it is being subscribed), and in a clean
        // execution context: the watch outlives its first subscriber, whose ambient activity and logging scopes must
        // not follow it (nor be current while it emits to the others). A stop that comes first wins: the disposable
        // disposes the subscription as soon as it is assigned.
        if (connect) ThreadPool.UnsafeQueueUserWorkItem(static watch => watch.Connect(), this, preferLocal: false);
        return subscriber;
    }

    /// <summary>Whether the watch runs on a client the caller supplied (which the caller may dispose once its
    /// subscriptions are gone: no linger then).</summary>
    public bool UsesCallersClient => _client is not null;

    private void Connect()
    {
        // Stopped before it connected (the last subscriber left at once): no LIST, no client.
        if (_upstream.IsDisposed) return;
        _upstream.Disposable = EndpointSliceWatcher.Signals(_config, _client, _loggers).Subscribe(this);
    }

    /// <summary>Stops the watch (the registry calls it once the last subscriber has left and the linger is over).</summary>
    public void Dispose() => _upstream.Dispose();

    public void OnNext(DiscoverySignal value)
    {
        Subscriber[] targets;
        lock (_gate)
        {
            Apply(value);
            targets = _subscribers;
            foreach (var target in targets) target.Enqueue(new Item(value, null, false));
        }

        foreach (var target in targets) target.Drain();
    }

    public void OnError(Exception error) => Terminate(new Item(null, error, false));

    public void OnCompleted() => Terminate(new Item(null, null, true));

    /// <summary>The watcher never ends on its own; should it ever, every subscriber hears it and the registry forgets the watch.</summary>
    private void Terminate(Item terminal)
    {
        Subscriber[] targets;
        lock (_gate)
        {
            _terminal = terminal;
            targets = _subscribers;
            _subscribers = [];
            foreach (var target in targets) target.Enqueue(terminal);
        }

        SharedWatches.Forget(this);
        foreach (var target in targets) target.Drain();
    }

    private void Apply(DiscoverySignal signal)
    {
        _lastSignal = signal;
        _namespace = signal.Namespace ?? _namespace;
        if (signal.SliceEvent is not { } sliceEvent) return;
        switch (sliceEvent.Kind)
        {
            case SliceEventKind.Reset:
                _slices.Clear();
                foreach (var slice in sliceEvent.Slices)
                {
                    if (KeyOf(slice) is { } key) _slices[key] = slice;
                }

                _synchronized = true;
                break;
            case SliceEventKind.Upserted when KeyOf(sliceEvent.Slice!) is { } key:
                _slices[key] = sliceEvent.Slice!;
                break;
            case SliceEventKind.Deleted when KeyOf(sliceEvent.Slice!) is { } key:
                _slices.Remove(key);
                break;
        }
    }

    /// <summary>What a subscriber joining now must see: the current slices, then the latest failure.</summary>
    private List<DiscoverySignal> Replay()
    {
        var replay = new List<DiscoverySignal>(2);
        if (_synchronized) replay.Add(DiscoverySignal.Slice(SliceEvent.Reset(_slices.Values), _namespace));
        if (_lastSignal is { SliceEvent: null } last && (last.Health != DiscoveryHealth.Healthy || !_synchronized)) replay.Add(last);
        return replay;
    }

    // The tracker ignores (and logs) a slice without a name; so does the replay.
    private static string? KeyOf(V1EndpointSlice slice) =>
        slice.Metadata?.Name is { } name ? (slice.Metadata.NamespaceProperty ?? "") + "/" + name : null;

    private void Leave(Subscriber subscriber)
    {
        lock (_gate)
        {
            var index = Array.IndexOf(_subscribers, subscriber);
            if (index < 0) return;
            _subscribers = [.. _subscribers[..index], .. _subscribers[(index + 1)..]];
        }
    }

    private readonly record struct Item(DiscoverySignal? Signal, Exception? Error, bool Completed);

    /// <summary>One subscriber: its queue, its drain, and its share of the watch's reference count.</summary>
    private sealed class Subscriber(SharedWatch owner, IObserver<DiscoverySignal> observer) : IDisposable
    {
        private readonly ConcurrentQueue<Item> _queue = new();
        private int _draining;
        private int _disposed;

        public void Enqueue(Item item) => _queue.Enqueue(item);

        public void Drain()
        {
            while (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
            {
                while (_queue.TryDequeue(out var item)) Deliver(item);
                Volatile.Write(ref _draining, 0);
                if (_queue.IsEmpty) return;
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
            owner.Leave(this);
            SharedWatches.Release(owner);
        }

        private void Deliver(Item item)
        {
            if (Volatile.Read(ref _disposed) != 0) return;
            try
            {
                if (item.Signal is { } signal) observer.OnNext(signal);
                else if (item.Error is { } error) observer.OnError(error);
                else observer.OnCompleted();
            }
            catch (Exception error)
            {
                // Never into the watch: it would look like an API failure to the watcher, or end it for everybody.
                Log.SharedSubscriberFailed(owner._logger, error, owner._config.ServiceName);
            }
        }
    }
}
