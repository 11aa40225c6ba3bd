using System.Net;
using System.Reactive.Linq;

namespace Reactive.K8sLb.Internal;

/// <summary>Wraps a cold stream of updates; the plain change view flattens it.</summary>
internal sealed class DiscoveryObservable(IObservable<DiscoveryUpdate> updates) : IDiscoveryObservable
{
    public IObservable<DiscoveryUpdate> Updates { get; } = updates;

    public IDisposable Subscribe(IObserver<Change<EndPoint>> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        return Updates.SelectMany(update => update.Changes).Subscribe(observer);
    }
}
