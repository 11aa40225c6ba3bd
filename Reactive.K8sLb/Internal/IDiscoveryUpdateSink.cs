using Grpc.Net.Client.Balancer;

namespace Reactive.K8sLb.Internal;

/// <summary>
/// Accepts changes in batches together with the discovery update they come from, so a sink can apply a whole
/// <see cref="DiscoveryUpdate"/> atomically and learn about synchronisation and failures (its status), where it comes
/// from (its source, for telemetry) and when its first watch event arrived (for the delay histogram). Implemented by
/// the observer behind <see cref="BalancedChannel.Updates"/>; <see cref="DiscoveryApplier"/> uses it when present.
/// </summary>
internal interface IDiscoveryUpdateSink
{
    /// <summary>Applies the changes in order, then the status, as one step (at most one publish follows).</summary>
    /// <param name="changes">The changes, in order: <paramref name="update"/>'s, mapped to addresses.</param>
    /// <param name="update">The update they were mapped from (its status, source and event timestamp are used).</param>
    /// <param name="skippedEndpoints">Endpoints of the set left out because the address builder failed for them.</param>
    void Apply(IReadOnlyList<Change<BalancerAddress>> changes, DiscoveryUpdate update, int skippedEndpoints);
}
