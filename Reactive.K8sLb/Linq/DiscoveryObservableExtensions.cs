using System.Net;
using Reactive.K8sLb.Internal;

namespace Reactive.K8sLb.Linq;

/// <summary>
/// Operators that keep the discovery status: they take and return <see cref="IDiscoveryObservable"/>, so what follows
/// them (<c>ApplyTo</c>, a status display) still sees synchronisation and failures. Plain Rx operators on the change
/// stream give a plain <see cref="IObservable{T}"/> and lose them.
/// </summary>
public static class DiscoveryObservableExtensions
{
    /// <summary>
    /// Keeps the endpoints that satisfy <paramref name="predicate"/>. It is evaluated once per endpoint when it is
    /// inserted; the endpoint's later updates (<see cref="DiscoveryUpdate.EndpointChanges"/>) and remove pass exactly
    /// when its insert did, so the set stays consistent even for a predicate whose answer changes. A predicate that throws excludes that endpoint (it never ends the stream). Updates
    /// whose changes are all filtered out are still emitted, with their status.
    /// </summary>
    /// <param name="source">The discovery source.</param>
    /// <param name="predicate">Which endpoints to keep.</param>
    /// <returns>The filtered source, with the same status.</returns>
    public static IDiscoveryObservable Filter(this IDiscoveryObservable source, Func<EndPoint, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(predicate);
        return new DerivedDiscoveryObservable(System.Reactive.Linq.Observable.Defer(() =>
        {
            var filter = new EndpointFilter(predicate);
            return System.Reactive.Linq.Observable.Select(source.Updates, filter.Apply);
        }), DerivedDiscoveryObservable.ScopeOf(source));
    }

    /// <summary>
    /// Shares one subscription of <paramref name="source"/> (for Kubernetes discovery: one LIST and WATCH) among every
    /// subscriber, reference-counted: it starts with the first subscriber and stops when the last one leaves. A late
    /// subscriber first receives the current set as inserts (with each endpoint's latest metadata), with the current status (so it sees the first snapshot
    /// even when it is empty), then the live updates.
    /// </summary>
    /// <param name="source">The discovery source.</param>
    /// <returns>The shared source.</returns>
    public static IDiscoveryObservable Share(this IDiscoveryObservable source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return new DerivedDiscoveryObservable(new SharedUpdates(source.Updates), DerivedDiscoveryObservable.ScopeOf(source));
    }
}
