using System.Net;

namespace Reactive.K8sLb;

/// <summary>
/// A stream of endpoint changes that also carries discovery status. Subscribing as an
/// <see cref="IObservable{T}"/> of <see cref="Change{T}"/> gives the changes alone; subscribing to
/// <see cref="Updates"/> gives the same changes grouped as they were applied, with the status in band, so a consumer
/// can tell when the first snapshot is complete (even an empty one) and why discovery is failing.
/// Each subscription, to either, is independent (for Kubernetes discovery: its own watch).
/// </summary>
public interface IDiscoveryObservable : IObservable<Change<EndPoint>>
{
    /// <summary>The changes grouped into updates, each with the status after it.</summary>
    IObservable<DiscoveryUpdate> Updates { get; }
}
