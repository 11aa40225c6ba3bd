using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Accepts changes in batches together with the discovery status after them, so a sink can apply a whole
/// <see cref="DiscoveryUpdate"/> atomically and learn about synchronisation and failures. Implemented by the
/// observer behind <see cref="BalancedChannel.Updates"/>; <see cref="DiscoveryApplier"/> uses it when present.
/// </summary>
internal interface IDiscoveryUpdateSink
{
    /// <summary>Applies the changes in order, then the status, as one step (at most one publish follows).</summary>
    /// <param name="changes">The changes, in order.</param>
    /// <param name="status">The status after the changes.</param>
    /// <param name="skippedEndpoints">Endpoints of the set left out because the address builder failed for them.</param>
    void Apply(IReadOnlyList<Change<BalancerAddress>> changes, DiscoveryStatus status, int skippedEndpoints);
}
