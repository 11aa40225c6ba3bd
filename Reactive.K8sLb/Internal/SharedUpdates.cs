using System.Net;
using System.Reactive.Disposables;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// One subscription to a source of updates shared by many observers, reference-counted, with the current set and
/// status replayed to each new observer as one update. One lock orders connection, replay and delivery, so an observer
/// never misses or duplicates an update around its replay. Errors and completion are passed on and end the sharing;
/// the next subscriber starts a new source subscription. The source subscription belongs to the subscribers: the last
/// one to leave disposes it.
/// </summary>
#pragma warning disable CA1001 // The connection is owned by the subscribers (reference-counted), not by this object.
internal sealed class SharedUpdates(IObservable<DiscoveryUpdate> source) : IObservable<DiscoveryUpdate>
#pragma warning restore CA1001
{
    private readonly object _gate = new();
    private readonly List<IObserver<DiscoveryUpdate>> _observers = [];

    // The current set in arrival order, with each endpoint's latest metadata.
    private readonly Dictionary<EndPoint, KubernetesEndpoint> _current = [];
    private DiscoveryStatus? _status;
    private Telemetry.DiscoveryInstance? _source;
    private SingleAssignmentDisposable? _connection;

    public IDisposable Subscribe(IObserver<DiscoveryUpdate> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        SingleAssignmentDisposable? connect = null;
        lock (_gate)
        {
            if (_status is { } status)
            {
                // A replay that throws must not leave an observer that no handle can remove (the watch would never stop).
                observer.OnNext(DiscoveryUpdate.FromEndpointChanges([.. _current.Values.Select(Change.Insert)], status, _source, eventTimestamp: 0));
            }

            _observers.Add(observer);
            if (_connection is null) _connection = connect = new SingleAssignmentDisposable();
        }

        // Outside the lock: a source may deliver synchronously while subscribing. Its notifications are tied to this
        // connection, so a late one from a connection already given up changes nothing.
        if (connect is not null) connect.Disposable = source.Subscribe(u => OnNext(connect, u), e => End(connect, o => o.OnError(e)), () => End(connect, o => o.OnCompleted()));

        return Disposable.Create(() => Leave(observer));
    }

    private void Leave(IObserver<DiscoveryUpdate> observer)
    {
        SingleAssignmentDisposable? connection;
        lock (_gate)
        {
            if (!_observers.Remove(observer) || _observers.Count > 0) return;
            connection = _connection;
            Reset();
        }

        connection?.Dispose();
    }

    private void OnNext(IDisposable connection, DiscoveryUpdate update)
    {
        lock (_gate)
        {
            if (!ReferenceEquals(connection, _connection)) return;
            foreach (var change in update.EndpointChanges)
            {
                if (change.Kind == ChangeKind.Remove) _current.Remove(change.Item.EndPoint);
                else _current[change.Item.EndPoint] = change.Item;
            }

            _status = update.Status;
            _source = update.Source ?? _source;
            NotifyEach([.. _observers], observer => observer.OnNext(update));
        }
    }

    private void End(IDisposable connection, Action<IObserver<DiscoveryUpdate>> notify)
    {
        IObserver<DiscoveryUpdate>[] observers;
        lock (_gate)
        {
            if (!ReferenceEquals(connection, _connection)) return;
            observers = [.. _observers];
            _observers.Clear();
            Reset();
        }

        NotifyEach(observers, notify);
    }

    /// <summary>Notifies every observer, then rethrows the first exception (to the source's guard): one observer's
    /// exception must not keep the notification from the others.</summary>
    private static void NotifyEach(IObserver<DiscoveryUpdate>[] observers, Action<IObserver<DiscoveryUpdate>> notify)
    {
        Exception? failure = null;
        foreach (var observer in observers)
        {
            try
            {
                notify(observer);
            }
            catch (Exception error)
            {
                failure ??= error;
            }
        }

        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }

    private void Reset()
    {
        _connection = null;
        _current.Clear();
        _status = null;
        _source = null;
    }
}
