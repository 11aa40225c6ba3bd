using System.Net;
using System.Reactive;
using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// The analogue of tonic-lb-k8s's <c>discover(config, tx, build)</c>: subscribes to a discovery source's updates and
/// sends each change, mapped by <c>build</c>, to <c>tx</c>. When <c>tx</c> also accepts whole updates
/// (<see cref="IDiscoveryUpdateSink"/>, as <see cref="BalancedChannel.Updates"/> does) each update is applied as one
/// step with its status, so synchronisation (even to an empty set) and failures reach the resolver. Errors and
/// completion of the source are passed on to <c>tx</c>.
/// </summary>
internal static class DiscoveryApplier
{
    /// <summary>Subscribes <paramref name="tx"/> to <paramref name="source"/>.</summary>
    /// <param name="source">The discovery source.</param>
    /// <param name="tx">Receives the mapped changes.</param>
    /// <param name="build">Maps an endpoint to a balancer address; must be deterministic (removes are mapped too).</param>
    /// <returns>The subscription; disposing it stops the source (the watch).</returns>
    internal static IDisposable DiscoverCore(IDiscoveryObservable source, IObserver<Change<BalancerAddress>> tx, Func<EndPoint, BalancerAddress> build)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(build);

        if (tx is IDiscoveryUpdateSink sink)
        {
            return source.Updates.Subscribe(Observer.Create<DiscoveryUpdate>(
                update => sink.Apply(Map(update.Changes, build), update.Status),
                tx.OnError,
                tx.OnCompleted));
        }

        return source.Updates.Subscribe(Observer.Create<DiscoveryUpdate>(
            update =>
            {
                foreach (var change in update.Changes) tx.OnNext(Map(change, build));
            },
            tx.OnError,
            tx.OnCompleted));
    }

    internal static Change<BalancerAddress> Map(Change<EndPoint> change, Func<EndPoint, BalancerAddress> build) =>
        new(change.Kind, build(change.Item) ?? throw new InvalidOperationException($"The address builder returned null for {change.Item}."));

    private static Change<BalancerAddress>[] Map(IReadOnlyList<Change<EndPoint>> changes, Func<EndPoint, BalancerAddress> build)
    {
        var mapped = new Change<BalancerAddress>[changes.Count];
        for (var i = 0; i < mapped.Length; i++) mapped[i] = Map(changes[i], build);
        return mapped;
    }
}
