using System.Net;
using System.Reactive.Linq;
using Reactive.K8sLb;

namespace Greeter.Client;

/// <summary>
/// Wraps a discovery source and remembers the endpoint set it last reported, without a second watch: the wrapper is
/// itself an <see cref="IDiscoveryObservable"/>, so <c>ApplyTo</c> still sees the status (fail-fast before the first
/// sync) and the changes arrive exactly as before.
/// </summary>
internal sealed class EndpointTracker
{
    private readonly object _gate = new();
    private readonly HashSet<EndPoint> _current = [];
    private readonly TaskCompletionSource _synchronized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<DiscoveryStatus> _settled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The most endpoints seen at once.</summary>
    public int MaxCount { get; private set; }

    /// <summary>The last reported status.</summary>
    public DiscoveryStatus Status { get; private set; } = DiscoveryStatus.Connecting;

    /// <summary>Completes when the first complete snapshot has been applied.</summary>
    public Task Synchronized => _synchronized.Task;

    /// <summary>
    /// Completes with the first status that says whether discovery works: synchronized, or failing before that (an
    /// unreachable API server, a 403, ...). Discovery itself goes on retrying either way.
    /// </summary>
    public Task<DiscoveryStatus> Settled => _settled.Task;

    /// <summary>Raised after every update, with the update (for logging).</summary>
    public event Action<DiscoveryUpdate>? Updated;

    public IReadOnlyList<EndPoint> Current
    {
        get
        {
            lock (_gate) return [.. _current.OrderBy(e => e.ToString(), StringComparer.Ordinal)];
        }
    }

    public IDiscoveryObservable Wrap(IDiscoveryObservable source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new Tracked(source.Updates.Do(Apply));
    }

    private void Apply(DiscoveryUpdate update)
    {
        lock (_gate)
        {
            foreach (var change in update.Changes)
            {
                if (change.Kind == ChangeKind.Insert) _current.Add(change.Item);
                else _current.Remove(change.Item);
            }

            MaxCount = Math.Max(MaxCount, _current.Count);
            Status = update.Status;
        }

        if (update.Status.IsSynchronized) _synchronized.TrySetResult();
        if (update.Status.IsSynchronized || update.Status.Health == DiscoveryHealth.Failing) _settled.TrySetResult(update.Status);
        Updated?.Invoke(update);
    }

    private sealed class Tracked(IObservable<DiscoveryUpdate> updates) : IDiscoveryObservable
    {
        public IObservable<DiscoveryUpdate> Updates { get; } = updates;

        public IDisposable Subscribe(IObserver<Change<EndPoint>> observer) =>
            Updates.SelectMany(update => update.Changes).Subscribe(observer);
    }
}
