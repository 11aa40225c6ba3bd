using System.Net;
using System.Reactive;
using Grpc.Net.Client.Balancer;
using Microsoft.Extensions.Logging;
using Reactive.K8sLb.Internal.Telemetry;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// The analogue of tonic-lb-k8s's <c>discover(config, tx, build)</c>: subscribes to a discovery source's updates and
/// sends each change (<see cref="DiscoveryUpdate.EndpointChanges"/>, so metadata updates arrive as
/// <see cref="ChangeKind.Update"/>s of the address), mapped by <c>build</c> (through an <see cref="AddressBuilder"/>: a
/// failing build skips that endpoint only), to <c>tx</c>. When <c>tx</c> also accepts whole updates (<see cref="IDiscoveryUpdateSink"/>, as
/// <see cref="BalancedChannel.Updates"/> does) each update is applied as one step with its status, so synchronisation
/// (even to an empty set) and failures reach the resolver. Errors and completion of the source are passed on to
/// <c>tx</c>; an exception thrown by a user's <c>tx</c> is logged and does not stop discovery.
/// </summary>
internal static class DiscoveryApplier
{
    /// <summary>Subscribes <paramref name="tx"/> to <paramref name="source"/>.</summary>
    /// <param name="source">The discovery source.</param>
    /// <param name="tx">Receives the mapped changes.</param>
    /// <param name="build">Maps an endpoint to a balancer address.</param>
    /// <param name="loggerFactory">Where build failures and observer failures are logged.</param>
    /// <returns>The subscription; disposing it stops the source (the watch).</returns>
    internal static IDisposable DiscoverCore(IDiscoveryObservable source, IObserver<Change<BalancerAddress>> tx, Func<EndPoint, BalancerAddress> build, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(build);
        return DiscoverCore(source, tx, logger => AddressBuilder.ForEndPoints(build, logger), loggerFactory);
    }

    /// <summary>Subscribes <paramref name="tx"/> to <paramref name="source"/>, building addresses from the endpoints' metadata.</summary>
    /// <param name="source">The discovery source.</param>
    /// <param name="tx">Receives the mapped changes.</param>
    /// <param name="build">Maps an endpoint to a balancer address.</param>
    /// <param name="loggerFactory">Where build failures and observer failures are logged.</param>
    /// <returns>The subscription; disposing it stops the source (the watch).</returns>
    internal static IDisposable DiscoverCore(IDiscoveryObservable source, IObserver<Change<BalancerAddress>> tx, Func<KubernetesEndpoint, BalancerAddress> build, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(build);
        return DiscoverCore(source, tx, logger => AddressBuilder.ForEndpoints(build, logger), loggerFactory);
    }

    private static IDisposable DiscoverCore(IDiscoveryObservable source, IObserver<Change<BalancerAddress>> tx, Func<ILogger, AddressBuilder> createBuilder, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(tx);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        var logger = ScopedTo(source, loggerFactory).CreateLogger("Reactive.K8sLb.Applier");
        var builder = createBuilder(logger);

        if (tx is IDiscoveryUpdateSink sink)
        {
            return source.Updates.Subscribe(Observer.Create<DiscoveryUpdate>(
                update =>
                {
                    var mapped = builder.Map(update.EndpointChanges);
                    update.Source?.SetBuildFailed(builder, builder.Skipped);
                    sink.Apply(mapped, update, builder.Skipped);
                },
                tx.OnError,
                tx.OnCompleted));
        }

        return source.Updates.Subscribe(Observer.Create<DiscoveryUpdate>(
            update =>
            {
                foreach (var mapped in builder.Map(update.EndpointChanges)) ObserverGuard.Notify(logger, () => tx.OnNext(mapped));

                update.Source?.SetBuildFailed(builder, builder.Skipped);
            },
            error => ObserverGuard.Notify(logger, () => tx.OnError(error)),
            () => ObserverGuard.Notify(logger, tx.OnCompleted)));
    }

    /// <summary>
    /// The applier's messages carry the Service scope: a factory already scoped (the <c>k8s:///</c> resolver's) is
    /// kept; for one of the library's sources, the given factory is wrapped with that source's scope (which learns
    /// the namespace once the client knows it); any other source has no Service to name.
    /// </summary>
    private static ILoggerFactory ScopedTo(IDiscoveryObservable source, ILoggerFactory loggerFactory) =>
        loggerFactory is ServiceScopedLoggerFactory || DerivedDiscoveryObservable.ScopeOf(source) is not { } scope
            ? loggerFactory
            : new ServiceScopedLoggerFactory(loggerFactory, scope);

    /// <summary>Applies a plain change stream (no status) to a sink, building addresses per subscription.</summary>
    internal static IDisposable ApplyChanges(IObservable<Change<EndPoint>> source, IObserver<Change<BalancerAddress>> tx, Func<EndPoint, BalancerAddress> build, ILoggerFactory loggerFactory)
    {
        var builder = AddressBuilder.ForEndPoints(build, loggerFactory.CreateLogger("Reactive.K8sLb.Applier"));
        var mapped = new List<Change<BalancerAddress>>(2);
        return source.Subscribe(
            change =>
            {
                mapped.Clear();
                builder.Map(change, mapped);
                foreach (var one in mapped) tx.OnNext(one);
            },
            tx.OnError,
            tx.OnCompleted);
    }
}
