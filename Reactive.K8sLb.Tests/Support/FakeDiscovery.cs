using System.Net;
using System.Reactive.Linq;
using System.Reactive.Subjects;

namespace Reactive.K8sLb.Tests.Support;

/// <summary>
/// A test double of a discovery source: updates are pushed by the test and replayed to late subscribers (a resolver
/// subscribes only when its channel starts resolving), so each subscriber sees the whole history like a fresh watch.
/// </summary>
internal sealed class FakeDiscovery : IDiscoveryObservable
{
    private readonly ReplaySubject<DiscoveryUpdate> _updates = new();
    private readonly HashSet<EndPoint> _current = [];

    public static readonly DiscoveryStatus Healthy = new(DiscoveryHealth.Healthy, IsSynchronized: true);

    public IObservable<DiscoveryUpdate> Updates => _updates.AsObservable();

    public bool HasObservers => _updates.HasObservers;

    public IDisposable Subscribe(IObserver<Change<EndPoint>> observer) =>
        _updates.SelectMany(u => u.Changes).Subscribe(observer);

    /// <summary>Pushes one update; validates that inserts are new and removes present (like DynamicData's ValidateChangeSets).</summary>
    public void Push(DiscoveryStatus status, params Change<EndPoint>[] changes)
    {
        foreach (var change in changes)
        {
            var ok = change.Kind == ChangeKind.Insert ? _current.Add(change.Item) : _current.Remove(change.Item);
            if (!ok) throw new InvalidOperationException($"Invalid change {change} for the current set.");
        }

        _updates.OnNext(new DiscoveryUpdate(changes, status));
    }

    public void Insert(params EndPoint[] endPoints) => Push(Healthy, [.. endPoints.Select(Change.Insert)]);

    public void Remove(params EndPoint[] endPoints) => Push(Healthy, [.. endPoints.Select(Change.Remove)]);

    public void Fail(string message, bool synchronized = false) =>
        Push(new DiscoveryStatus(DiscoveryHealth.Failing, synchronized, message, new InvalidOperationException(message)));
}
