using System.Net;
using System.Reactive.Linq;

namespace Reactive.K8sLb.Internal;

/// <summary>A discovery source made from an update stream by a status-keeping operator.</summary>
internal sealed class DerivedDiscoveryObservable(IObservable<DiscoveryUpdate> updates) : IDiscoveryObservable
{
    public IObservable<DiscoveryUpdate> Updates { get; } = updates;

    public IDisposable Subscribe(IObserver<Change<EndPoint>> observer)
    {
        ArgumentNullException.ThrowIfNull(observer);
        return Updates.SelectMany(update => update.Changes).Subscribe(observer);
    }
}
