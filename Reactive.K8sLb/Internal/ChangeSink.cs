using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// The observer behind <see cref="BalancedChannel.Updates"/> (tonic's <c>tx</c>). Single changes count as a plain
/// change stream (the first one synchronizes); batches with status come through <see cref="IDiscoveryUpdateSink"/>.
/// An error is reported as a discovery failure; completion keeps the last known set. It does not enforce the
/// observer grammar: several sources may feed one channel, and notifications after a terminal one still apply.
/// </summary>
internal sealed class ChangeSink(ChangeSinkResolver resolver) : IObserver<Change<BalancerAddress>>, IDiscoveryUpdateSink
{
    public void OnNext(Change<BalancerAddress> value) => resolver.Apply([value]);

    public void OnError(Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        resolver.Fail(error);
    }

    public void OnCompleted()
    {
    }

    public void Apply(IReadOnlyList<Change<BalancerAddress>> changes, DiscoveryUpdate update, int skippedEndpoints)
    {
        ArgumentNullException.ThrowIfNull(changes);
        ArgumentNullException.ThrowIfNull(update);
        resolver.Apply(changes, update, skippedEndpoints);
    }
}
