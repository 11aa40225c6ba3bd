namespace Reactive.K8sLb;

/// <summary>The kind of a <see cref="Change{T}"/>.</summary>
public enum ChangeKind
{
    /// <summary>The item joined the set.</summary>
    Insert = 0,

    /// <summary>The item left the set.</summary>
    Remove = 1,

    /// <summary>
    /// The item stays in the set with new contents: it replaces the item of the same identity (for a
    /// <see cref="KubernetesEndpoint"/>, the same <see cref="KubernetesEndpoint.EndPoint"/>; for a
    /// <see cref="Grpc.Net.Client.Balancer.BalancerAddress"/>, the same <c>EndPoint</c>), for example when an
    /// endpoint's zone, hints or conditions change. Connections to it stay. Streams of <see cref="System.Net.EndPoint"/>
    /// changes (<see cref="DiscoveryUpdate.Changes"/>, an <see cref="IDiscoveryObservable"/> as a change stream) never
    /// carry it: an endpoint does not change as an <see cref="System.Net.EndPoint"/>.
    /// </summary>
    Update = 2,
}
